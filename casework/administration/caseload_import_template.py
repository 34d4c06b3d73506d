"""The caseload template: an XLSX with the header row to fill in and an instructions sheet (Italian)
naming each column and the values it allows, for the supervisor who downloads it."""

from __future__ import annotations

import io

from sqlalchemy.orm import Session

from casework.administration.caseload_import_files import COLUMNS, DATA_SHEET
from casework.i18n import gettext
from casework.models import Gender, Priority, Programme, ReferralSource, User
from casework.models.labels import GENDERS, PRIORITIES, REFERRAL_SOURCES
from casework.security import visible_programmes
from casework.workflow import WorkflowRegistry

INSTRUCTIONS_SHEET = "Istruzioni"
LOCALE = "it"

_EXPLANATIONS = {
    "codice_fiscale": "Obbligatorio. 16 caratteri. Una persona già registrata con lo stesso codice fiscale non viene "
                      "creata di nuovo.",
    "first_name": "Obbligatorio.",
    "last_name": "Obbligatorio.",
    "birth_date": "Facoltativo. gg/mm/aaaa (o una data di Excel). Deve corrispondere al codice fiscale.",
    "gender": "Obbligatorio. Valori ammessi: {genders}.",
    "comune": "Facoltativo. Codice ISTAT (6 cifre) o nome del comune di residenza.",
    "phone": "Facoltativo.",
    "email": "Facoltativo.",
    "programme": "Obbligatorio. Codice del programma (vedi sotto i programmi del suo territorio).",
    "stage": "Obbligatorio. La fase in cui si trova il patto, tra quelle del flusso del programma (vedi sotto). "
             "Solo casi aperti: le fasi di chiusura non sono ammesse.",
    "case_manager": "Obbligatorio. Nome utente o e-mail di un case manager attivo del suo territorio.",
    "referred_on": "Obbligatorio. gg/mm/aaaa, non nel futuro.",
    "referral_source": "Obbligatorio. Valori ammessi: {sources}.",
    "opened_on": "gg/mm/aaaa, non prima della segnalazione. Obbligatoria oltre la prima fase: le scadenze della "
                 "fase contano da questa data. Per i casi ancora in segnalazione le scadenze contano dalla data di "
                 "segnalazione.",
    "last_contact_on": "Facoltativo. gg/mm/aaaa. Le scadenze \"dall'ultimo contatto\" (monitoraggio) contano da qui.",
    "priority": "Facoltativo. Valori ammessi: {priorities}.",
    "notes": "Facoltativo. Diventa il motivo della segnalazione.",
}


def _allowed(labels, members) -> str:
    return ", ".join(gettext(LOCALE, labels[member]) for member in members)


def build_template(session: Session, registry: WorkflowRegistry, user: User) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET
    sheet.append([header for _, header, _ in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, (_, header, _) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(14, len(header) + 4)

    notes = workbook.create_sheet(INSTRUCTIONS_SHEET)
    notes.append(["Come compilare il file"])
    notes["A1"].font = Font(bold=True, size=14)
    notes.append([(
        "Una riga per persona e programma. Le date come gg/mm/aaaa. Il file si può salvare come XLSX "
        "o come CSV UTF-8 (separato da ; o ,). Prima dell'importazione una prova mostra, riga per riga, "
        "cosa verrà creato e ogni problema: se ce n'è anche uno solo, non viene importato nulla."
    )])
    notes.append([])
    notes.append(["Colonna", "Cosa scrivere"])
    values = {
        "genders": _allowed(GENDERS, list(Gender)), "sources": _allowed(REFERRAL_SOURCES, list(ReferralSource)),
        "priorities": _allowed(PRIORITIES, list(Priority)),
    }
    for key, header, _ in COLUMNS:
        notes.append([header, _EXPLANATIONS[key].format(**values)])
    notes.append([])
    notes.append(["Programmi e fasi"])
    for programme in session.scalars(visible_programmes(user).order_by(Programme.code)):
        definition = registry.latest(programme.workflow_name).definition
        stages = ", ".join(
            definition.label_of("state", name, LOCALE) for name in definition.states if name not in definition.final_states
        )
        notes.append([programme.code, f"{programme.name} — fasi: {stages}"])
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 120
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
