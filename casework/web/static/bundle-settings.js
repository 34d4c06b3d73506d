// Read by the Bootstrap Italia bundle as it loads, so it must come before it. The bundle's
// video player would otherwise add <style> elements to every page, which our
// Content-Security-Policy (style-src 'self') refuses with an error in the console; we play no video.
window.VIDEOJS_NO_DYNAMIC_STYLE = true;
