"""Demo data drawn from the project sheets in the product brief's sources.

Territories (Unione NET, Ambito di Lodi, CIdiS), the organisations the sheets name, five
programmes (TILDE, CHANCE, Femminili Plurali, Sis.Ac.T, Ricomincio da me), ten staff accounts
and about 200 beneficiaries, each with a pact driven through the real operations of
`casework.pacts.operations` with a clock that walks through the past. Histories, screenings, signed
revisions, contacts, outcomes and next deadlines are therefore what the engine itself
produces, and every state of every workflow is represented, with some pacts overdue and
some due soon relative to `now`.

`load_demo` only flushes: the caller's unit of work commits. It is deterministic for a
given `now` and `seed`, and idempotent: once the programme TILDE exists it creates nothing.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from codicefiscale import codicefiscale
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.it.codicefiscale import is_valid as cf_is_valid

from casework.clock import Clock
from casework.pacts import operations as ops
from casework.supervision.approvals import decide
from casework.reminders.deadlines import due_date
from casework.models import (
    Action,
    ActionStatus,
    ApprovalDecision,
    Beneficiary,
    ContactChannel,
    Gender,
    Goal,
    GoalsAchieved,
    HouseholdMember,
    ItemStatus,
    Organisation,
    OrganisationKind,
    Pact,
    Performer,
    Programme,
    ProgrammeTarget,
    ReferralSource,
    Relation,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.security.passwords import hash_password
from casework.reminders.workdays import add_working_days, is_working_day, working_days_between
from casework.workflow.definition import Question, Questionnaire
from casework.workflow.engine import WorkflowEngine, WorkflowRegistry

MARKER_PROGRAMME = "TILDE"
PASSWORD_PREFIX = "casework-demo-"
MAX_HISTORY_DAYS = 330  # no demo pact is opened longer ago than this


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    full_name: str
    territory: str


@dataclass(frozen=True)
class DemoSummary:
    created: bool  # False when the demo data was already there (idempotent re-run)
    accounts: list[DemoAccount]
    beneficiaries: int
    pacts: int


# --------------------------------------------------------------------------------------------
# Territories, organisations, staff, programmes
# --------------------------------------------------------------------------------------------

NET = "Unione NET"
LODI = "Ambito di Lodi"
CIDIS = "CIdiS - Consorzio Intercomunale di Servizi"

# name, kind, comuni (name, ISTAT code, weight ~ population)
TERRITORIES: tuple[tuple[str, TerritoryKind, tuple[tuple[str, str, int], ...]], ...] = (
    (NET, TerritoryKind.UNIONE, (
        ("Settimo Torinese", "001265", 47), ("Volpiano", "001314", 15),
        ("Leinì", "001130", 16), ("San Benigno Canavese", "001236", 6),
    )),
    (LODI, TerritoryKind.AMBITO, (
        ("Lodi", "098031", 45), ("Codogno", "098019", 15), ("Casalpusterlengo", "098010", 15),
        ("Sant'Angelo Lodigiano", "098050", 13), ("Lodi Vecchio", "098032", 7),
    )),
    (CIDIS, TerritoryKind.CONSORZIO, (
        ("Orbassano", "001171", 23), ("Piossasco", "001194", 18), ("Rivalta di Torino", "001214", 20),
        ("Beinasco", "001024", 17), ("Bruino", "001038", 8), ("Volvera", "001315", 9),
    )),
)

# name, kind, territory (an aggregate's name, a comune's name, or None for regional/national)
ORGANISATIONS: tuple[tuple[str, OrganisationKind, str | None], ...] = (
    # Unione NET (TILDE)
    ("Unione NET - Unione dei Comuni Nord Est Torino", OrganisationKind.PUBLIC_BODY, NET),
    ("Comune di Settimo Torinese", OrganisationKind.PUBLIC_BODY, "Settimo Torinese"),
    ("Comune di Volpiano", OrganisationKind.PUBLIC_BODY, "Volpiano"),
    ("Comune di Leinì", OrganisationKind.PUBLIC_BODY, "Leinì"),
    ("Comune di San Benigno Canavese", OrganisationKind.PUBLIC_BODY, "San Benigno Canavese"),
    ("Istituto comprensivo di Volpiano", OrganisationKind.SCHOOL, "Volpiano"),
    ("Istituto comprensivo di San Benigno Canavese", OrganisationKind.SCHOOL, "San Benigno Canavese"),
    ("Agenzia della Mobilità Piemontese", OrganisationKind.PUBLIC_BODY, None),
    # Ambito di Lodi (CHANCE, Sis.Ac.T, Ricomincio da me and the other Lodi projects)
    ("Azienda Speciale Consortile del Lodigiano per i Servizi alla Persona", OrganisationKind.PUBLIC_BODY, LODI),
    ("Comune di Lodi", OrganisationKind.PUBLIC_BODY, "Lodi"),
    ("Provincia di Lodi", OrganisationKind.PUBLIC_BODY, LODI),
    ("Azienda Socio Sanitaria Territoriale di Lodi", OrganisationKind.PUBLIC_BODY, LODI),
    ("CPIA Lodi", OrganisationKind.SCHOOL, "Lodi"),
    ("Istituto Comprensivo Lodi III", OrganisationKind.SCHOOL, "Lodi"),
    ("Famiglia Nuova Società Cooperativa Sociale", OrganisationKind.COOPERATIVE, LODI),
    ("Emmanuele Società Cooperativa Sociale Onlus", OrganisationKind.COOPERATIVE, LODI),
    ("Società Cooperativa Sociale Le Pleiadi Servizi", OrganisationKind.COOPERATIVE, LODI),
    ("KOINÈ Coop. Sociale Onlus", OrganisationKind.COOPERATIVE, LODI),
    ("Soc. Coop. Soc. ARL SOL.I", OrganisationKind.COOPERATIVE, LODI),
    ("Microcosmi Società Cooperativa Sociale", OrganisationKind.COOPERATIVE, LODI),
    ("La Metà di Niente - Centro antiviolenza", OrganisationKind.ASSOCIATION, "Lodi"),
    ("Associazione di volontariato Il Gabbiano onlus", OrganisationKind.ASSOCIATION, LODI),
    ("Associazione Progetto Insieme", OrganisationKind.ASSOCIATION, LODI),
    ("Associazione Lausvol", OrganisationKind.ASSOCIATION, LODI),
    ("Fondazione Comunitaria della Provincia di Lodi", OrganisationKind.FOUNDATION, LODI),
    # CIdiS (Femminili Plurali, Family e benessere della comunità)
    ("CIdiS - Consorzio Intercomunale di Servizi", OrganisationKind.PUBLIC_BODY, CIDIS),
    ("Comune di Orbassano", OrganisationKind.PUBLIC_BODY, "Orbassano"),
    ("Comune di Piossasco", OrganisationKind.PUBLIC_BODY, "Piossasco"),
    ("Comune di Rivalta di Torino", OrganisationKind.PUBLIC_BODY, "Rivalta di Torino"),
    ("Renken Onlus", OrganisationKind.ASSOCIATION, CIDIS),
    ("Cooperativa Orso", OrganisationKind.COOPERATIVE, CIDIS),
    ("Università degli Studi di Torino - Dipartimento di Culture, Politica e Società", OrganisationKind.PUBLIC_BODY, None),
    # Funders
    ("Fondazione Cariplo", OrganisationKind.FOUNDATION, None),
    ("Fondazione Compagnia di San Paolo", OrganisationKind.FOUNDATION, None),
    ("Regione Lombardia", OrganisationKind.PUBLIC_BODY, None),
    ("Dipartimento per le Pari Opportunità - Presidenza del Consiglio dei Ministri", OrganisationKind.PUBLIC_BODY, None),
)

# username, full name, role, territory, organisation
STAFF: tuple[tuple[str, str, Role, str, str | None], ...] = (
    ("admin", "Paola Ghirardi", Role.ADMIN, LODI, None),
    ("c.bonetto", "Chiara Bonetto", Role.SUPERVISOR, NET, "Unione NET - Unione dei Comuni Nord Est Torino"),
    ("e.gribaudo", "Elena Gribaudo", Role.CASE_MANAGER, NET, "Unione NET - Unione dei Comuni Nord Est Torino"),
    ("m.perotti", "Marco Perotti", Role.CASE_MANAGER, NET, "Unione NET - Unione dei Comuni Nord Est Torino"),
    ("s.cremonesi", "Silvia Cremonesi", Role.SUPERVISOR, LODI, "Azienda Speciale Consortile del Lodigiano per i Servizi alla Persona"),
    ("a.boffelli", "Anna Boffelli", Role.CASE_MANAGER, LODI, "Azienda Speciale Consortile del Lodigiano per i Servizi alla Persona"),
    ("d.bergamaschi", "Davide Bergamaschi", Role.CASE_MANAGER, LODI, "Azienda Speciale Consortile del Lodigiano per i Servizi alla Persona"),
    ("r.giordano", "Roberta Giordano", Role.SUPERVISOR, CIDIS, "CIdiS - Consorzio Intercomunale di Servizi"),
    ("v.rosso", "Valentina Rosso", Role.CASE_MANAGER, CIDIS, "Cooperativa Orso"),
    ("l.chiaramello", "Luca Chiaramello", Role.CASE_MANAGER, CIDIS, "CIdiS - Consorzio Intercomunale di Servizi"),
)


def demo_accounts() -> list[DemoAccount]:
    """The demo staff with their (deterministic, printable) passwords."""
    return [
        DemoAccount(username=u, password=PASSWORD_PREFIX + u, role=role.value, full_name=name, territory=territory)
        for u, name, role, territory, _ in STAFF
    ]


@dataclass(frozen=True)
class _ProgrammeSpec:
    code: str
    name: str
    funder: str
    territory: str
    workflow: str
    description: str
    restricted: bool = False
    no_contact_days: int = 30
    targets: tuple[tuple[str, str, str], ...] = ()  # indicator, value, description
    size: int = 0  # demo beneficiaries
    managers: tuple[str, ...] = ()  # case managers who hold its pacts
    comuni: tuple[str, ...] = ()  # where its beneficiaries live (default: the whole territory)


PROGRAMMES: tuple[_ProgrammeSpec, ...] = (
    _ProgrammeSpec(
        code="TILDE",
        name="TILDE",
        funder="non indicato nella scheda di progetto",
        territory=NET,
        workflow="patto_personalizzato",
        description=(
            "Progetto dell'Unione NET (Settimo Torinese, Volpiano, Leinì, San Benigno Canavese) per il "
            "miglioramento del benessere occupazionale delle donne coinvolte: con il «welfare manager di caso», "
            "nell'ottica della co-responsabilità, per ciascuna viene co-progettato un progetto personalizzato che "
            "favorisca l'ingresso o la permanenza nel mondo del lavoro e la conciliazione con le esigenze personali "
            "e familiari. Il «welfare manager territoriale» porta i casi a sistema con servizi pubblici, associazioni "
            "e mondo produttivo, per un modello replicabile i cui impatti siano monitorabili e valutabili. "
            "Infrastrutture attivate: centri educativi pomeridiani presso il DegaUrbanLAB di Settimo e l'Istituto "
            "comprensivo di Volpiano (6-10 e 11-13 anni), Ludoteca Amica 0-3 anni e «I primi 1000 giorni» per le "
            "neo-mamme al Centro Famiglia di San Benigno Canavese; in preparazione i Centri Famiglia di Volpiano e Leinì. "
            "Edizione dimostrativa: la scheda originale (aggiornata a febbraio 2024) descrive un progetto triennale "
            "già avviato con l'anno scolastico 2023/2024."
        ),
        targets=(("share_women", "1.0", "Il progetto si rivolge alle donne: benessere occupazionale delle donne coinvolte"),),
        size=55,
        managers=("e.gribaudo", "m.perotti"),
    ),
    _ProgrammeSpec(
        code="CHANCE",
        name="CHANCE. Un Patto Territoriale contro la Dispersione Scolastica",
        funder="Fondazione Cariplo – Bando Emblematici Minori 2016",
        territory=LODI,
        workflow="chance_dispersione",
        description=(
            "Patto territoriale contro la dispersione scolastica (protocollo, prassi definite e strumenti di lavoro). "
            "Capofila CPIA Lodi; partner Istituto Comprensivo Lodi III, Azienda Speciale Consortile del Lodigiano per i "
            "Servizi alla Persona (CFP), SOL.I, Famiglia Nuova, Le Pleiadi Servizi, KOINÈ ed Emmanuele. "
            "Individua tempestivamente i ragazzi in dispersione o a rischio (segnalazioni da scuola, servizi sociali, "
            "servizi educativi territoriali), aggancia famiglia e ragazzi con azioni di riorientamento e rimotivazione "
            "e li accompagna con progettualità individualizzate, anche con apprendimento professionalizzante "
            "(apprendistato) e certificazione delle competenze. Contributo ricevuto: € 100.000. "
            "Periodo originale: maggio 2017 – settembre 2018 (16 mesi); qui trattato come edizione in corso."
        ),
        no_contact_days=14,
        size=50,
        managers=("a.boffelli", "d.bergamaschi"),
    ),
    _ProgrammeSpec(
        code="FEMMINILI_PLURALI",
        name="Comunità e inclusione: Femminili Plurali – Fase 2",
        funder="Fondazione Compagnia di San Paolo – Bando «Territori inclusivi»",
        territory=CIDIS,
        workflow="patto_personalizzato",
        description=(
            "Dà continuità all'omonima progettualità sui territori di Piossasco, Rivalta e Orbassano per favorire "
            "l'acquisizione di strumenti per l'accesso ai servizi, alle opportunità socioculturali e di inclusione "
            "lavorativa da parte di persone in condizione di fragilità, in particolare donne con background migratorio, "
            "con una presa in carico multidimensionale. Strumenti co-progettati: patto di inclusività, scheda di "
            "screening sociale, database condiviso dei servizi, portinerie di comunità; percorsi di gruppo e "
            "personalizzati di orientamento e accompagnamento al lavoro (doti, tirocini) e di conciliazione vita "
            "lavorativa-familiare. Partner: Renken Onlus, Cooperativa Orso, CIdiS, Comuni di Orbassano, Piossasco e "
            "Rivalta. Periodo originale: novembre 2023 – ottobre 2025."
        ),
        targets=(
            ("beneficiaries", "300", "300 persone in condizione di fragilità con background migratorio coinvolte nei percorsi integrati multidimensionali"),
            ("share_women", "0.80", "Almeno l'80% delle persone coinvolte sono donne"),
            ("share_migrant_background", "1.0", "Persone con background migratorio"),
            ("self_employment_training", "30", "30 donne con background migratorio nella formazione sull'autoimprenditoria"),
        ),
        size=60,
        managers=("v.rosso", "l.chiaramello"),
        comuni=("Orbassano", "Piossasco", "Rivalta di Torino"),
    ),
    _ProgrammeSpec(
        code="SISACT",
        name="Sis.Ac.T – Sistema di Accoglienza Territoriale",
        funder="Regione Lombardia – Fondo Sociale Europeo",
        territory=LODI,
        workflow="patto_personalizzato",
        description=(
            "Azioni di accompagnamento all'inclusione socio-lavorativa di circa 200 adulti sottoposti a provvedimenti "
            "dell'autorità giudiziaria del territorio di Lodi, con interventi integrati e personalizzati, inserimento "
            "lavorativo e accoglienza abitativa temporanea finalizzata al raggiungimento dell'autonomia. Capofila "
            "Azienda Speciale Consortile del Lodigiano per i Servizi alla Persona – Ufficio di Piano; partner Il Gabbiano "
            "onlus, CESVIP, Progetto Insieme, Provincia di Lodi, Comune di Lodi, Lausvol. Sportello di accoglienza e "
            "orientamento presso il Centro per l'Impiego di Lodi, via Gorini 21. Contributo: € 226.145,53. "
            "Periodo originale: 24 mesi, concluso a novembre 2018. Casi riservati: visibili solo agli operatori assegnati."
        ),
        restricted=True,
        targets=(("beneficiaries", "200", "Circa 200 adulti sottoposti a provvedimenti dell'autorità giudiziaria accompagnati"),),
        size=20,
        managers=("d.bergamaschi",),
    ),
    _ProgrammeSpec(
        code="RICOMINCIO",
        name="Ricomincio da me. Percorsi di empowerment per donne vittime di violenza e i loro figli/e",
        funder="Dipartimento per le Pari Opportunità – Presidenza del Consiglio dei Ministri",
        territory=LODI,
        workflow="patto_personalizzato",
        description=(
            "Rafforza il sistema integrato di risposte per il sostegno e l'accompagnamento delle donne vittime di "
            "violenza in un percorso di fuoriuscita dalla violenza, anche per i figli e le figlie vittime di violenza "
            "assistita, con attenzione all'empowerment femminile e ai percorsi di autonomia. Capofila Comune di Lodi "
            "per la Rete Territoriale Antiviolenza; partner La Metà di Niente – Centro antiviolenza per le donne. "
            "Contributo: € 180.000. Periodo originale: settembre 2016 – agosto 2018. Casi riservati: visibili solo "
            "alle persone assegnate."
        ),
        restricted=True,
        targets=(("share_women", "1.0", "Donne vittime di violenza domestica, con i loro figli e figlie"),),
        size=15,
        managers=("a.boffelli",),
    ),
)

# --------------------------------------------------------------------------------------------
# Names and places
# --------------------------------------------------------------------------------------------

ITALIAN_F = (
    "Giulia", "Francesca", "Sara", "Martina", "Chiara", "Valentina", "Elisa", "Federica", "Silvia", "Alessia",
    "Roberta", "Simona", "Laura", "Paola", "Monica", "Daniela", "Barbara", "Cristina", "Manuela", "Elena",
    "Serena", "Ilaria", "Veronica", "Claudia", "Stefania", "Michela", "Giorgia", "Noemi", "Debora", "Katia",
    "Sabrina", "Rosaria", "Antonella", "Concetta", "Luisa", "Marta", "Beatrice", "Arianna", "Erika", "Jessica",
)
ITALIAN_M = (
    "Marco", "Luca", "Andrea", "Matteo", "Alessandro", "Davide", "Simone", "Francesco", "Stefano", "Roberto",
    "Giuseppe", "Antonio", "Salvatore", "Fabio", "Massimo", "Daniele", "Paolo", "Gabriele", "Riccardo", "Lorenzo",
    "Nicola", "Emanuele", "Cristian", "Mirko", "Manuel", "Giovanni", "Vincenzo", "Michele", "Enrico", "Claudio",
)
YOUNG_F = ("Sofia", "Aurora", "Giorgia", "Alice", "Martina", "Chiara", "Emma", "Greta", "Asia", "Ginevra", "Rebecca", "Noemi", "Gaia", "Anna")
YOUNG_M = ("Leonardo", "Lorenzo", "Mattia", "Gabriele", "Riccardo", "Tommaso", "Edoardo", "Alessandro", "Christian", "Samuele", "Kevin", "Nicolò", "Filippo", "Diego")
CHILD_NAMES = ("Sofia", "Leonardo", "Giulia", "Francesco", "Aurora", "Tommaso", "Alice", "Edoardo", "Ginevra", "Mattia", "Beatrice", "Riccardo", "Emma", "Gabriele", "Vittoria", "Pietro")

SURNAMES = {
    NET: ("Ferrero", "Bertolino", "Cravero", "Bosio", "Rinaudo", "Chiarle", "Perino", "Ghione", "Audisio", "Giacosa",
          "Barbero", "Bruno", "Gallo", "Ricci", "Rossi", "Bianco", "Costa", "Fontana", "Moretti", "Martini",
          "Colombo", "Esposito", "Russo", "Greco", "Lombardo", "Caruso", "Ferraro", "Romano", "Marino", "Rizzo",
          "De Luca", "Mancuso", "Lo Presti", "D'Angelo", "Santoro", "Leone", "Serra", "Actis", "Vottero", "Bordin"),
    LODI: ("Bassi", "Bonfanti", "Codazzi", "Pozzoli", "Rossi", "Brambilla", "Ferrari", "Sali", "Grossi", "Boselli",
           "Cerri", "Dossena", "Gorla", "Anelli", "Tansini", "Vignati", "Maianti", "Cappelletti", "Chiesa", "Premoli",
           "Esposito", "Russo", "Greco", "Caruso", "Romano", "Marino", "Lombardi", "Scotti", "Bianchi", "Villa",
           "Granata", "Marchesi", "Ogliari", "Pedrazzini", "Livraghi", "Zanaboni"),
    CIDIS: ("Ferrero", "Bertello", "Gili", "Aimar", "Bonansea", "Cena", "Druetta", "Genre", "Mollar", "Olivero",
            "Rossi", "Russo", "Esposito", "Greco", "Gallo", "Costa", "Ricci", "Marino", "Bruno", "Romano"),
}

ITALIAN_BIRTHPLACES = {
    NET: ("Torino", "Torino", "Torino", "Torino", "Settimo Torinese", "Chivasso", "Ivrea", "Napoli", "Palermo", "Bari", "Catania", "Foggia", "Cosenza"),
    LODI: ("Lodi", "Lodi", "Lodi", "Lodi", "Codogno", "Milano", "Milano", "Crema", "Piacenza", "Napoli", "Palermo", "Salerno", "Casalpusterlengo"),
    CIDIS: ("Torino", "Torino", "Torino", "Torino", "Orbassano", "Pinerolo", "Moncalieri", "Napoli", "Bari", "Reggio di Calabria", "Lecce"),
}
ITALIAN_BIRTHPLACES_YOUNG = {
    NET: ("Torino", "Torino", "Chivasso", "Settimo Torinese"),
    LODI: ("Lodi", "Lodi", "Lodi", "Codogno", "Milano"),
    CIDIS: ("Torino", "Torino", "Orbassano", "Pinerolo"),
}


@dataclass(frozen=True)
class _Origin:
    country: str  # also the citizenship shown
    cf_place: str  # how the codicefiscale library names the country
    women: tuple[str, ...]
    men: tuple[str, ...]
    surnames: tuple[str, ...]
    boys: tuple[str, ...]
    girls: tuple[str, ...]

    @property
    def children(self) -> tuple[str, ...]:
        return self.boys + self.girls


ORIGINS: dict[str, _Origin] = {
    "Marocco": _Origin("Marocco", "Marocco",
                       ("Fatima", "Khadija", "Amina", "Naima", "Salma", "Zineb", "Hanane", "Samira", "Laila", "Meryem"),
                       ("Mohamed", "Youssef", "Rachid", "Hamza", "Karim", "Abdelkader", "Said", "Mustapha"),
                       ("El Amrani", "Benali", "Bouzid", "El Idrissi", "Chakir", "Ouali", "Tahiri", "Belhaj", "Alaoui", "Berrada"),
                       ("Adam", "Rayan", "Ilyas", "Amir", "Yassin", "Anas"),
                       ("Yasmine", "Nour", "Malak", "Sara", "Aya", "Hiba")),
    "Romania": _Origin("Romania", "Romania",
                       ("Ioana", "Elena", "Andreea", "Mihaela", "Gabriela", "Alina", "Cristina", "Florentina", "Daniela", "Roxana"),
                       ("Andrei", "Florin", "Ionut", "Marius", "Adrian", "Constantin", "Bogdan", "Vasile"),
                       ("Popescu", "Ionescu", "Constantin", "Dumitru", "Stan", "Munteanu", "Stoica", "Rusu", "Lungu", "Moldovan"),
                       ("Luca", "David", "Stefan", "Matei", "Andrei", "Alexandru"),
                       ("Ana", "Maria", "Daria", "Sofia", "Ioana", "Bianca")),
    "Albania": _Origin("Albania", "Albania",
                       ("Anila", "Elira", "Blerina", "Mirela", "Arjola", "Ornela", "Entela", "Valbona", "Jonida", "Klodiana"),
                       ("Ardit", "Erion", "Gentian", "Arben", "Ilir", "Fatmir", "Besnik", "Dritan"),
                       ("Hoxha", "Shehu", "Kola", "Leka", "Gjoka", "Dervishi", "Marku", "Prifti", "Cela", "Hysa"),
                       ("Ardit", "Aron", "Noel", "Erik", "Klevis", "Denis"),
                       ("Klea", "Amelia", "Ajla", "Sara", "Ambra", "Xhesika")),
    "Nigeria": _Origin("Nigeria", "Nigeria",
                       ("Blessing", "Joy", "Precious", "Chioma", "Ngozi", "Favour", "Gift", "Osas", "Esohe", "Mercy"),
                       ("Emeka", "Chinedu", "Osagie", "Samuel", "Godwin", "Friday", "Kelvin", "Ifeanyi"),
                       ("Okafor", "Eze", "Osagie", "Obi", "Adeyemi", "Igbinosa", "Omoregie", "Okonkwo", "Eghosa", "Nwosu"),
                       ("Divine", "Miracle", "David", "Daniel", "Emmanuel", "Samuel"),
                       ("Precious", "Esther", "Testimony", "Goodness", "Blessing", "Favour")),
    "Senegal": _Origin("Senegal", "Senegal",
                       ("Aminata", "Fatou", "Awa", "Mariama", "Khady", "Ndeye", "Astou", "Coumba", "Bineta", "Rokhaya"),
                       ("Mamadou", "Cheikh", "Moussa", "Ousmane", "Ibrahima", "Abdoulaye", "Modou", "Babacar"),
                       ("Diop", "Ndiaye", "Fall", "Sow", "Gueye", "Sarr", "Diallo", "Faye", "Mbaye", "Ba"),
                       ("Moussa", "Ibrahima", "Omar", "Aliou", "Mamadou", "Cheikh"),
                       ("Awa", "Fatou", "Khadija", "Seynabou", "Aminata", "Mariama")),
    "Perù": _Origin("Perù", "Perù",
                    ("Rosa", "Milagros", "Carmen", "Maribel", "Yolanda", "Lucia", "Roxana", "Elizabeth", "Gladys", "Sonia"),
                    ("Jorge", "Luis", "Carlos", "Juan", "Miguel", "Cesar", "Wilmer", "Edwin"),
                    ("Quispe", "Mamani", "Huaman", "Flores", "Rojas", "Condori", "Chavez", "Ramos", "Vargas", "Torres"),
                    ("Mateo", "Thiago", "Santiago", "Fernando", "Diego", "Sebastian"),
                    ("Valentina", "Camila", "Luciana", "Ximena", "Daniela", "Fernanda")),
    "Ucraina": _Origin("Ucraina", "Ucraina",
                       ("Olena", "Oksana", "Tetiana", "Iryna", "Nataliia", "Yuliia", "Svitlana", "Halyna", "Lyudmyla", "Olha"),
                       ("Oleksandr", "Andrii", "Serhii", "Volodymyr", "Mykola", "Ivan", "Dmytro", "Vasyl"),
                       ("Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Melnyk", "Kravchenko", "Boyko", "Moroz", "Lysenko", "Savchenko"),
                       ("Maksym", "Artem", "Mykyta", "Bohdan", "Danylo", "Denys"),
                       ("Sofiia", "Anna", "Veronika", "Daryna", "Polina", "Viktoriia")),
    "Egitto": _Origin("Egitto", "Egitto",
                      ("Mona", "Heba", "Rania", "Nour", "Amira", "Dina", "Shaimaa", "Marwa", "Yasmin", "Aya"),
                      ("Ahmed", "Mahmoud", "Mostafa", "Mohamed", "Hany", "Tarek", "Sherif", "Khaled"),
                      ("Abdelaziz", "Hassan", "Mahmoud", "Ibrahim", "Elsayed", "Farouk", "Mansour", "Saleh", "Abdallah", "Youssef"),
                      ("Youssef", "Omar", "Adam", "Seif", "Ahmed", "Karim"),
                      ("Malak", "Jana", "Farida", "Hana", "Mariam", "Salma")),
    "Cina": _Origin("Cina", "Repubblica Popolare Cinese",
                    ("Mei", "Xiaoyan", "Hui", "Jing", "Ying", "Li", "Fang", "Lan", "Xiu", "Yan"),
                    ("Wei", "Jun", "Hao", "Qiang", "Lei", "Ming", "Jian", "Bo"),
                    ("Hu", "Zhou", "Chen", "Wang", "Lin", "Zhang", "Huang", "Xu", "Ye", "Zheng"),
                    ("Hao", "Haoran", "Junjie", "Zihan", "Yichen", "Jiahao"),
                    ("Yuxin", "Ruoxi", "Yiting", "Xinyi", "Zixuan", "Yutong")),
}

# Femminili Plurali: countries of origin of the migrant women of the CIdiS territory
FP_ORIGINS = (("Marocco", 25), ("Romania", 18), ("Albania", 12), ("Nigeria", 10), ("Perù", 9), ("Ucraina", 8), ("Senegal", 7), ("Egitto", 7), ("Cina", 4))
OTHER_ORIGINS = (("Marocco", 25), ("Romania", 25), ("Albania", 20), ("Egitto", 8), ("Perù", 7), ("Ucraina", 6), ("Senegal", 5), ("Nigeria", 4))

STREETS = (
    "Via Roma", "Via Garibaldi", "Corso Italia", "Via Mazzini", "Via Cavour", "Via Matteotti", "Via Gramsci",
    "Via Verdi", "Via Dante Alighieri", "Via XX Settembre", "Via Carducci", "Via Leopardi", "Via San Francesco",
    "Via Vittorio Veneto", "Via Don Minzoni", "Via Torino", "Via Milano", "Via della Repubblica", "Piazza della Libertà",
    "Via IV Novembre", "Via Piave", "Via Trieste", "Via Manzoni", "Via Europa",
)

# --------------------------------------------------------------------------------------------
# Texts of referrals, goals, actions, contacts and outcomes (Italian, as case managers write)
# --------------------------------------------------------------------------------------------

# (needs, source, referrer, reason); needs: genders ("F", "M", "FM") then tags (see _fits)
REFERRALS: dict[str, tuple[tuple[str, ReferralSource, str, str], ...]] = {
    "TILDE": (
        ("F kids single", ReferralSource.SOCIAL_SERVICES, "Servizio sociale dell'Unione NET",
         ("Madre sola con figli in età scolare, disoccupata da oltre un anno dopo la chiusura del negozio in cui lavorava. "
          "Chiede supporto per rientrare nel lavoro e per organizzare la cura dei figli nel pomeriggio.")),
        ("F baby", ReferralSource.COMPANY, "Ufficio del personale di un'azienda del territorio",
         ("L'ufficio del personale segnala una dipendente con contratto a termine che fatica a conciliare i turni con la cura "
          "del figlio piccolo e rischia di non vedersi rinnovare il contratto.")),
        ("F schoolkid", ReferralSource.EDUCATIONAL_SERVICES, "Centro educativo presso il DegaUrbanLAB di Settimo",
         ("Gli educatori del centro educativo pomeridiano segnalano la madre di un bambino iscritto: lavora a chiamata con "
          "orari irregolari e chiede aiuto per trovare un impiego più stabile.")),
        ("F schoolkid", ReferralSource.SCHOOL, "Istituto comprensivo di Volpiano",
         ("La scuola segnala una famiglia monoreddito in difficoltà: la madre cerca lavoro ma non ha una rete per la cura dei "
          "figli nelle ore pomeridiane.")),
        ("F baby", ReferralSource.SPORTELLO, "Centro Famiglia di San Benigno Canavese",
         ("Neo-mamma conosciuta al gruppo «I primi 1000 giorni»: vorrebbe rientrare al lavoro dopo la maternità ma non trova "
          "posto al nido e non ha familiari vicini.")),
        ("F kids", ReferralSource.SELF, "",
         ("Accesso spontaneo allo sportello TILDE dopo un incontro informativo: cerca un lavoro part-time compatibile con gli "
          "orari scolastici dei figli.")),
        ("F", ReferralSource.COMPANY, "Referente welfare aziendale di un'impresa di Leinì",
         ("Lavoratrice part-time su turni, con un genitore non autosufficiente a carico: chiede di conoscere i servizi di "
          "conciliazione del territorio per non lasciare il lavoro.")),
    ),
    "FEMMINILI_PLURALI": (
        ("F l2", ReferralSource.SPORTELLO, "Portineria di comunità di Piossasco",
         ("Donna arrivata in Italia da tre anni per ricongiungimento familiare; parla poco l'italiano e chiede informazioni su "
          "corsi di lingua e opportunità di lavoro.")),
        ("FM kids l2", ReferralSource.SOCIAL_SERVICES, "CIdiS - servizio sociale territoriale",
         ("Nucleo con figli minori e un solo reddito precario; il titolo di studio conseguito all'estero non è riconosciuto "
          "e serve una presa in carico multidimensionale (lavoro, casa, documenti).")),
        ("F schoolkid", ReferralSource.SCHOOL, "Scuola primaria del territorio",
         ("Gli insegnanti segnalano le difficoltà della madre a comunicare con la scuola e a orientarsi tra i servizi; la "
          "famiglia vive in un alloggio sovraffollato.")),
        ("FM", ReferralSource.OTHER, "Renken Onlus - sportello di orientamento",
         ("Partecipa al percorso di gruppo di orientamento al lavoro; l'orientatrice propone una presa in carico personalizzata "
          "per problemi abitativi e di documenti.")),
        ("F permit", ReferralSource.SELF, "",
         ("Si presenta con un'amica che partecipa al progetto: cerca lavoro come assistente familiare e chiede aiuto per il "
          "rinnovo del permesso di soggiorno.")),
        ("FM", ReferralSource.OTHER, "Cooperativa Orso - orientamento al lavoro",
         ("Ha concluso un tirocinio senza assunzione; la cooperativa chiede di costruire un patto di inclusività per "
          "rafforzare le competenze e la rete di sostegno.")),
        ("F kids single", ReferralSource.SPORTELLO, "Portineria di comunità di Rivalta di Torino",
         ("Madre sola con figli piccoli, interessata alla formazione sull'autoimprenditoria: vorrebbe avviare un piccolo "
          "laboratorio di sartoria.")),
    ),
    "SISACT": (
        ("FM", ReferralSource.OTHER, "UEPE - Ufficio di Esecuzione Penale Esterna",
         "Affidamento in prova ai servizi sociali con prescrizione di svolgere attività lavorativa; senza occupazione da due anni."),
        ("FM", ReferralSource.SPORTELLO, "Sportello per persone sottoposte a provvedimenti - Centro per l'Impiego di Lodi",
         ("Persona in detenzione domiciliare che chiede orientamento per la ricerca di lavoro e per un alloggio temporaneo al "
          "termine della misura.")),
        ("FM", ReferralSource.SOCIAL_SERVICES, "Servizio sociale del Comune di Lodi",
         ("Fine pena a breve, senza rete familiare e senza alloggio: il servizio sociale chiede un percorso di accompagnamento "
          "abitativo e lavorativo.")),
        ("FM", ReferralSource.OTHER, "Associazione di volontariato Il Gabbiano onlus",
         ("In messa alla prova con lavori di pubblica utilità presso l'associazione; chiede supporto per trovare un lavoro "
          "stabile alla conclusione della misura.")),
    ),
    "RICOMINCIO": (
        ("F kids", ReferralSource.OTHER, "La Metà di Niente - Centro antiviolenza",
         ("Donna accolta dal Centro antiviolenza dopo l'allontanamento dal maltrattante; con i figli minori, chiede un "
          "percorso di autonomia abitativa e lavorativa.")),
        ("F kids", ReferralSource.SOCIAL_SERVICES, "Servizio tutela minori - Comune di Lodi",
         "Madre con figli esposti a violenza assistita: necessita di sostegno per la ricerca di un lavoro e di un alloggio."),
        ("F", ReferralSource.OTHER, "Rete Territoriale Antiviolenza di Lodi",
         ("Segnalazione dalla rete antiviolenza dopo un accesso al pronto soccorso; la donna è ospite di una struttura protetta "
          "e vuole costruire un progetto di autonomia.")),
        ("F", ReferralSource.SELF, "",
         ("Si rivolge allo sportello dopo aver letto il materiale informativo del progetto: chiede aiuto per uscire da una "
          "situazione di violenza economica.")),
    ),
    "CHANCE": (
        ("FM", ReferralSource.SCHOOL, "Istituto Comprensivo Lodi III - referente per la dispersione",
         "Assenze oltre il 25% nel primo quadrimestre e due note disciplinari; la famiglia non si presenta ai colloqui."),
        ("FM", ReferralSource.SCHOOL, "CPIA Lodi",
         "Iscrizione al percorso per la licenza media, ma da febbraio non frequenta più e non ha dato comunicazioni."),
        ("FM", ReferralSource.SOCIAL_SERVICES, "Servizio tutela minori",
         "Già in carico ai servizi; ha interrotto la frequenza al centro di formazione professionale dopo la bocciatura."),
        ("M", ReferralSource.EDUCATIONAL_SERVICES, "Educativa di strada - Famiglia Nuova",
         "Gli educatori di strada hanno agganciato un ragazzo che non frequenta da inizio anno e passa le giornate al parco."),
        ("F", ReferralSource.EDUCATIONAL_SERVICES, "Educativa di strada - Famiglia Nuova",
         "Gli educatori di strada hanno agganciato una ragazza che non frequenta da inizio anno e trascorre le giornate fuori casa."),
        ("FM", ReferralSource.SCHOOL, "Scuola secondaria di secondo grado di Codogno",
         "Ripetente al primo anno, demotivazione marcata, chiede di cambiare indirizzo: alto rischio di abbandono."),
        ("FM", ReferralSource.SOCIAL_SERVICES, "Servizio sociale del Comune di Casalpusterlengo",
         "Famiglia seguita per difficoltà economiche; molte assenze nell'ultimo anno e nessun esame di riparazione sostenuto."),
    ),
}

# need area -> (goal, ((performer, detail, action), ...)); details may use {lavoro}, {lingua}, {comunita}
PACT_GOALS: dict[str, tuple[tuple[str, tuple[tuple[Performer, str, str], ...]], ...]] = {
    "lavoro": (
        ("Ottenere un contratto di lavoro part-time compatibile con gli orari scolastici dei figli", (
            (Performer.BENEFICIARY, "", "Aggiornare il curriculum vitae e prepararsi ai colloqui di selezione"),
            (Performer.SERVICE, "{lavoro}", "Colloquio di orientamento e iscrizione ai servizi per il lavoro"),
            (Performer.CASE_MANAGER, "", "Segnalare la candidatura alle aziende della rete di welfare territoriale"),
        )),
        ("Completare un tirocinio di inclusione in un'azienda del territorio", (
            (Performer.SERVICE, "{lavoro}", "Attivazione di un tirocinio di inclusione di sei mesi con indennità"),
            (Performer.BENEFICIARY, "", "Frequentare il tirocinio secondo il calendario concordato con il tutor aziendale"),
        )),
        ("Conseguire la qualifica di operatore socio-sanitario (OSS)", (
            (Performer.CASE_MANAGER, "", "Verificare requisiti e documenti per l'iscrizione al corso OSS finanziato"),
            (Performer.SERVICE, "Ente di formazione accreditato", "Iscrizione al corso OSS e colloquio di ammissione"),
        )),
        ("Rafforzare le competenze digitali per la ricerca attiva di lavoro", (
            (Performer.SERVICE, "Punto Digitale Facile del Comune", "Partecipazione al laboratorio di competenze digitali (SPID, e-mail, portali del lavoro)"),
            (Performer.BENEFICIARY, "", "Candidarsi ad almeno tre offerte di lavoro al mese"),
        )),
    ),
    "casa": (
        ("Trovare una soluzione abitativa stabile prima dell'esecuzione dello sfratto", (
            (Performer.SERVICE, "Sportello casa del Comune", "Domanda di contributo per la morosità incolpevole"),
            (Performer.CASE_MANAGER, "", "Contatti con le agenzie sociali per la locazione del territorio"),
        )),
        ("Presentare la domanda per un alloggio di edilizia sociale", (
            (Performer.BENEFICIARY, "", "Raccogliere ISEE e documentazione richiesta dal bando"),
            (Performer.SERVICE, "CAF convenzionato", "Compilazione e invio della domanda"),
        )),
    ),
    "cibo": (
        ("Garantire al nucleo l'accesso ai beni alimentari di prima necessità", (
            (Performer.SERVICE, "Emporio solidale", "Attivazione della tessera dell'emporio solidale per sei mesi"),
            (Performer.CASE_MANAGER, "", "Verifica dei requisiti per l'Assegno di inclusione"),
        )),
    ),
    "conciliazione": (
        ("Organizzare la cura dei figli per liberare tempo per il lavoro e la formazione", (
            (Performer.SERVICE, "{educativo}", "Iscrizione dei figli al centro educativo pomeridiano due pomeriggi a settimana"),
            (Performer.FAMILY, "", "Il partner o i nonni accompagnano i figli a scuola nei giorni di turno"),
        )),
        ("Attivare il pre e post scuola e i centri estivi per i figli", (
            (Performer.CASE_MANAGER, "", "Richiesta di esonero dalla retta del pre e post scuola"),
            (Performer.SERVICE, "Ufficio scuola del Comune", "Iscrizione ai servizi di pre e post scuola"),
        )),
    ),
    "istruzione": (
        ("Raggiungere il livello A2 di italiano", (
            (Performer.SERVICE, "{lingua}", "Iscrizione al corso di italiano L2"),
            (Performer.BENEFICIARY, "", "Frequentare almeno l'80% delle lezioni e sostenere il test finale"),
        )),
        ("Ottenere il riconoscimento del titolo di studio conseguito all'estero", (
            (Performer.BENEFICIARY, "", "Recuperare il diploma originale e farlo tradurre"),
            (Performer.CASE_MANAGER, "", "Accompagnamento alla richiesta della dichiarazione di valore"),
        )),
        ("Conseguire la licenza media", (
            (Performer.SERVICE, "{lingua}", "Iscrizione al percorso di primo livello"),
            (Performer.BENEFICIARY, "", "Frequentare le lezioni serali due volte a settimana"),
        )),
        ("Ottenere una qualifica professionale con un corso serale finanziato", (
            (Performer.CASE_MANAGER, "", "Ricerca dei corsi di qualifica finanziati compatibili con gli orari di lavoro"),
            (Performer.BENEFICIARY, "", "Sostenere il colloquio di ammissione e frequentare il corso"),
        )),
    ),
    "salute": (
        ("Riprendere i controlli sanitari e scegliere il medico di base", (
            (Performer.SERVICE, "Azienda sanitaria - anagrafe assistiti", "Iscrizione al Servizio sanitario regionale e scelta del medico"),
            (Performer.BENEFICIARY, "", "Prenotare la visita al consultorio"),
        )),
        ("Avviare un percorso di sostegno psicologico", (
            (Performer.SERVICE, "Consultorio familiare", "Primo colloquio con lo psicologo del consultorio"),
            (Performer.CASE_MANAGER, "", "Accompagnare al primo appuntamento"),
        )),
    ),
    "relazioni": (
        ("Costruire una rete di relazioni e di sostegno sul territorio", (
            (Performer.SERVICE, "{comunita}", "Partecipazione ai laboratori settimanali"),
            (Performer.BENEFICIARY, "", "Partecipare a un gruppo di mutuo aiuto del territorio"),
        )),
    ),
    "mobilita": (
        ("Raggiungere in autonomia il luogo di lavoro e i servizi", (
            (Performer.SERVICE, "{trasporti}", "Richiesta dell'abbonamento agevolato ai mezzi pubblici"),
            (Performer.BENEFICIARY, "", "Iscriversi alla scuola guida per la patente B"),
        )),
    ),
    "documenti": (
        ("Rinnovare il permesso di soggiorno", (
            (Performer.SERVICE, "Sportello stranieri", "Appuntamento per la compilazione del kit di rinnovo"),
            (Performer.BENEFICIARY, "", "Raccogliere contratto di lavoro e certificato di idoneità alloggiativa"),
        )),
        ("Ottenere la residenza anagrafica e la carta d'identità", (
            (Performer.CASE_MANAGER, "", "Accompagnare all'ufficio anagrafe per la dichiarazione di residenza"),
            (Performer.BENEFICIARY, "", "Presentare la documentazione richiesta dall'anagrafe"),
        )),
    ),
}

# Goals specific to a programme, preferred over the generic ones for their need area.
PROGRAMME_GOALS: dict[str, dict[str, tuple[tuple[str, tuple[tuple[Performer, str, str], ...]], ...]]] = {
    "SISACT": {
        "lavoro": (("Avviare un'attività lavorativa compatibile con le prescrizioni del provvedimento", (
            (Performer.SERVICE, "Sportello per persone sottoposte a provvedimenti - Centro per l'Impiego di Lodi", "Bilancio di competenze e tirocinio lavorativo"),
            (Performer.OTHER, "UEPE di Lodi", "Autorizzazione degli orari di lavoro compatibili con la misura"),
            (Performer.BENEFICIARY, "", "Rispettare orari e prescrizioni del tirocinio"),
        )),),
        "casa": (("Ottenere un posto nell'accoglienza abitativa temporanea del progetto", (
            (Performer.SERVICE, "Associazione di volontariato Il Gabbiano onlus", "Inserimento in appartamento di accoglienza temporanea"),
            (Performer.BENEFICIARY, "", "Contribuire alle spese e rispettare il regolamento dell'alloggio"),
        )),),
    },
    "RICOMINCIO": {
        "casa": (("Trovare un alloggio autonomo per sé e per i figli", (
            (Performer.SERVICE, "La Metà di Niente - Centro antiviolenza", "Accompagnamento nella ricerca di un alloggio in locazione"),
            (Performer.CASE_MANAGER, "", "Domanda di contributo per l'autonomia abitativa"),
        )),),
        "salute": (("Sostenere i figli vittime di violenza assistita", (
            (Performer.SERVICE, "Consultorio familiare", "Percorso di sostegno psicologico per i figli"),
            (Performer.BENEFICIARY, "", "Partecipare agli incontri di sostegno alla genitorialità"),
        )),),
        "lavoro": (("Avviare un percorso di empowerment e di orientamento al lavoro", (
            (Performer.SERVICE, "La Metà di Niente - Centro antiviolenza", "Percorso di empowerment e bilancio delle competenze"),
            (Performer.SERVICE, "Centro per l'Impiego di Lodi", "Iscrizione e colloquio di orientamento"),
        )),),
    },
    "TILDE": {
        "relazioni": (("Partecipare agli incontri «I primi 1000 giorni» per neo-mamme", (
            (Performer.SERVICE, "Centro Famiglia di San Benigno Canavese", "Iscrizione al gruppo «I primi 1000 giorni»"),
            (Performer.BENEFICIARY, "", "Partecipare agli incontri ogni due settimane"),
        )),),
    },
}

# Goals that suit only some people (tags as in _Loader._fits).
GOAL_NEEDS = {
    "Ottenere un contratto di lavoro part-time compatibile con gli orari scolastici dei figli": "schoolkid",
    "Organizzare la cura dei figli per liberare tempo per il lavoro e la formazione": "kids",
    "Attivare il pre e post scuola e i centri estivi per i figli": "schoolkid",
    "Raggiungere il livello A2 di italiano": "l2",
    "Ottenere il riconoscimento del titolo di studio conseguito all'estero": "l2",
    "Conseguire la licenza media": "l2",
    "Rinnovare il permesso di soggiorno": "permit",
    "Partecipare agli incontri «I primi 1000 giorni» per neo-mamme": "F baby",
    "Sostenere i figli vittime di violenza assistita": "kids",
    "Trovare un alloggio autonomo per sé e per i figli": "kids",
}

CHANCE_GOALS: dict[str, tuple[tuple[str, tuple[tuple[Performer, str, str], ...]], ...]] = {
    "istruzione": (
        ("Rientrare a scuola con un piano didattico personalizzato", (
            (Performer.SERVICE, "Istituto Comprensivo Lodi III", "Definizione del piano didattico personalizzato con il consiglio di classe"),
            (Performer.BENEFICIARY, "", "Frequentare regolarmente, con non più di due assenze al mese"),
            (Performer.CASE_MANAGER, "", "Incontro settimanale di monitoraggio con il tutor"),
        )),
        ("Conseguire la licenza media al CPIA Lodi", (
            (Performer.SERVICE, "CPIA Lodi", "Iscrizione al percorso di primo livello e ai laboratori di preparazione all'esame"),
            (Performer.BENEFICIARY, "", "Frequentare i laboratori di rafforzamento delle competenze di base"),
        )),
        ("Iscriversi a un percorso di formazione professionale", (
            (Performer.SERVICE, "Azienda Speciale Consortile del Lodigiano per i Servizi alla Persona - CFP", "Colloquio di orientamento e inserimento al CFP"),
            (Performer.FAMILY, "", "I genitori partecipano al colloquio di iscrizione"),
        )),
        ("Sperimentare un percorso di apprendistato con certificazione delle competenze", (
            (Performer.SERVICE, "Famiglia Nuova Società Cooperativa Sociale", "Stage orientativo in azienda con tutor educativo"),
            (Performer.CASE_MANAGER, "", "Raccolta delle evidenze per la certificazione delle competenze"),
        )),
    ),
    "relazioni": (
        ("Migliorare le relazioni con i compagni e con gli insegnanti", (
            (Performer.SERVICE, "KOINÈ Coop. Sociale Onlus", "Laboratorio di gestione del conflitto"),
            (Performer.BENEFICIARY, "", "Partecipare allo studio di gruppo tra pari due pomeriggi a settimana"),
        )),
    ),
    "salute": (
        ("Affrontare il disagio personale con un supporto specialistico", (
            (Performer.SERVICE, "Consultorio familiare", "Primo colloquio con lo psicologo del consultorio"),
            (Performer.FAMILY, "", "I genitori accompagnano agli appuntamenti"),
        )),
    ),
    "conciliazione": (
        ("Rafforzare il coinvolgimento della famiglia nel percorso scolastico", (
            (Performer.FAMILY, "", "Partecipare ogni mese ai colloqui con gli insegnanti"),
            (Performer.SERVICE, "Emmanuele Società Cooperativa Sociale Onlus", "Mediazione educativa nei colloqui scuola-famiglia"),
        )),
    ),
}

SERVICE_DETAILS = {
    "TILDE": {"lavoro": "Sportello lavoro TILDE - Unione NET", "lingua": "CPIA del territorio",
              "comunita": "Centro Famiglia di San Benigno Canavese", "educativo": "Centro educativo presso il DegaUrbanLAB di Settimo",
              "trasporti": "Agenzia della Mobilità Piemontese"},
    "FEMMINILI_PLURALI": {"lavoro": "Cooperativa Orso - orientamento al lavoro", "lingua": "CPIA del territorio",
                          "comunita": "Portineria di comunità", "educativo": "Centro educativo del Comune",
                          "trasporti": "Gruppo Torinese Trasporti"},
    "SISACT": {"lavoro": "Centro per l'Impiego di Lodi", "lingua": "CPIA Lodi", "comunita": "Associazione Progetto Insieme",
               "educativo": "Centro educativo del Comune", "trasporti": "Trasporto pubblico locale"},
    "RICOMINCIO": {"lavoro": "Centro per l'Impiego di Lodi", "lingua": "CPIA Lodi",
                   "comunita": "La Metà di Niente - Centro antiviolenza", "educativo": "Centro educativo del Comune di Lodi",
                   "trasporti": "Trasporto pubblico locale"},
}

PACT_COMMITMENTS = {
    Performer.BENEFICIARY: (
        "Partecipare agli incontri concordati e avvisare in caso di impedimento.",
        "Comunicare ogni cambiamento della situazione lavorativa, abitativa o familiare.",
        "Frequentare con regolarità le attività previste dal patto.",
    ),
    Performer.CASE_MANAGER: (
        "Garantire un colloquio di monitoraggio almeno una volta al mese.",
        "Attivare i servizi del territorio previsti dal patto e verificarne l'avvio.",
    ),
    Performer.FAMILY: (
        "Il partner si impegna a condividere la cura dei figli nei giorni di tirocinio o di corso.",
        "I familiari si impegnano a sostenere la frequenza delle attività concordate.",
    ),
    Performer.SERVICE: (
        "Il servizio per il lavoro si impegna a segnalare le offerte coerenti con il profilo.",
        "Il servizio si impegna a comunicare al welfare manager di caso eventuali assenze o difficoltà.",
    ),
}
CHANCE_COMMITMENTS = {
    Performer.BENEFICIARY: ("Frequentare con regolarità e presentarsi agli incontri con il tutor.",),
    Performer.FAMILY: ("I genitori si impegnano a partecipare agli incontri con la scuola e con l'équipe.",),
    Performer.CASE_MANAGER: ("Il tutor garantisce un contatto ogni due settimane e il raccordo con la scuola.",),
    Performer.SERVICE: ("La scuola si impegna a condividere ogni mese l'andamento della frequenza.",),
}

PACT_CONTACTS = (
    ("", ContactChannel.IN_PERSON, "Colloquio in sede: il percorso procede come concordato; confermati gli impegni per il prossimo mese."),
    ("", ContactChannel.PHONE, "Telefonata di monitoraggio: ha iniziato il tirocinio, qualche difficoltà con gli orari dei mezzi pubblici."),
    ("", ContactChannel.HOME_VISIT, "Visita domiciliare: la situazione abitativa resta precaria; fissato un appuntamento con lo sportello casa."),
    ("schoolkid", ContactChannel.IN_PERSON, "Colloquio con la scuola dei figli insieme alla famiglia: attivato il pre-scuola da lunedì."),
    ("l2", ContactChannel.VIDEO, "Videochiamata: completato il primo modulo del corso di italiano, in attesa del test A2."),
    ("F kids", ContactChannel.IN_PERSON, "Incontro alla portineria di comunità: partecipa con regolarità ai laboratori e ha conosciuto altre mamme del quartiere."),
    ("", ContactChannel.PHONE, "Telefonata: ha sostenuto due colloqui di lavoro, in attesa di risposta da una cooperativa di pulizie."),
    ("permit", ContactChannel.EMAIL, "Ricevuta per e-mail la ricevuta della domanda di rinnovo del permesso di soggiorno."),
    ("", ContactChannel.IN_PERSON, "Colloquio di verifica: obiettivo lavoro raggiunto in parte (contratto a chiamata); si prosegue la ricerca."),
    ("schoolkid", ContactChannel.PHONE, "Telefonata: il centro educativo conferma la frequenza dei figli due pomeriggi a settimana."),
    ("", ContactChannel.IN_PERSON, "Colloquio: rivista la gestione del budget familiare; attivata la tessera dell'emporio solidale."),
    ("", ContactChannel.PHONE, "Telefonata: riferisce un periodo faticoso ma conferma gli impegni; fissato il prossimo colloquio in sede."),
)
CHANCE_CONTACTS = (
    ("", ContactChannel.IN_PERSON, "Incontro con il tutor: frequenza regolare nelle ultime due settimane."),
    ("", ContactChannel.IN_PERSON, "Colloquio con la famiglia e il referente scolastico: condiviso il piano didattico personalizzato."),
    ("", ContactChannel.PHONE, "Telefonata di monitoraggio: conferma la presenza allo stage in azienda, il tutor aziendale è soddisfatto."),
    ("", ContactChannel.PHONE, "Verifica con il CFP: due assenze ingiustificate; fissato un incontro di rimotivazione."),
    ("", ContactChannel.IN_PERSON, "Laboratorio di gruppo: partecipa attivamente, migliora il rapporto con i compagni."),
    ("migrant", ContactChannel.HOME_VISIT, "Visita a casa con la mediatrice: i genitori si impegnano a seguire i compiti serali."),
    ("", ContactChannel.HOME_VISIT, "Visita a casa: i genitori si impegnano a controllare ogni sera il registro elettronico."),
    ("", ContactChannel.VIDEO, "Videochiamata con il consiglio di classe: recuperate due insufficienze su quattro."),
)

SUSPEND_REASONS = (  # (needs, reason) as in REFERRALS
    ("", "Ricovero ospedaliero programmato: il percorso riprende dopo la convalescenza."),
    ("migrant", "Rientro temporaneo nel paese d'origine per motivi familiari."),
    ("", "In attesa dell'esito della domanda di alloggio: le azioni sul lavoro sono rinviate."),
    ("", "Su richiesta della persona, per un periodo di assistenza a un familiare malato."),
    ("", "Corso di formazione intensivo in corso: monitoraggio sospeso fino al termine."),
)
RESUME_REASONS = (
    "Rientrata la causa della sospensione; si riprende il percorso.",
    "Colloquio di ripresa: confermati gli impegni del patto.",
    "La persona chiede di riprendere il percorso; si riattivano le azioni previste.",
)
WITHDRAW_REASONS = (  # (reason code of the workflow's `withdraw` event, note)
    ("found_solution", "Ha trovato lavoro autonomamente e non ritiene più necessario il percorso."),
    ("moved_away", "Trasferimento in un'altra regione per ricongiungersi con la famiglia."),
    ("not_reachable", "Non si presenta agli appuntamenti da oltre due mesi e non risponde al telefono."),
    ("no_longer_interested", "Rinuncia dopo il primo colloquio di co-progettazione: non ritiene utile il percorso."),
    ("family", "Deve assistere un familiare non autosufficiente e non riesce a seguire gli impegni del patto."),
    ("other_service", "Presa in carico dal Centro di Salute Mentale con un progetto individuale dedicato."),
)
CHANCE_WITHDRAW_REASONS = (
    ("family_refuses", "La famiglia non acconsente al percorso proposto dall'équipe."),
    ("moved_away", "Trasferimento della famiglia fuori provincia."),
    ("not_reachable", "Rifiuta ogni contatto con il tutor da oltre un mese, nonostante i tentativi di riaggancio."),
    ("reenrolled_independently", "Si è iscritto/a a un istituto professionale con la famiglia, senza bisogno dell'accompagnamento."),
)
SEND_BACK_COMMENTS = (  # the coordinator's comments on a CHANCE individual project
    "Manca un obiettivo sulla frequenza scolastica con una data di verifica: aggiungetelo prima dell'avvio.",
    "Gli impegni della famiglia sono troppo generici: indicate chi accompagna il ragazzo o la ragazza agli incontri.",
)
NOT_ELIGIBLE_REASONS = (
    "Residenza fuori dai comuni del progetto: indirizzata ai servizi del comune di residenza.",
    "Bisogni già coperti da un'altra presa in carico con patto attivo presso il servizio sociale.",
    "Dallo screening non emergono bisogni coerenti con gli obiettivi del progetto.",
)
DECLINE_REASONS = (
    "Situazione già seguita dalla neuropsichiatria infantile con un progetto in corso: l'équipe non ritiene opportuna una doppia presa in carico.",
    "Il nucleo è già seguito da un progetto educativo domiciliare per lo stesso bisogno: l'équipe indirizza il caso a quel servizio.",
    "Le assenze risultano giustificate da motivi di salute documentati: nessun rischio di dispersione.",
)
REQUEST_INFO_REASONS = (
    "L'équipe chiede alla scuola il registro delle assenze e una relazione del consiglio di classe.",
    "Servono informazioni sul nucleo familiare e sugli altri servizi coinvolti prima di decidere.",
)
EXTEND_REASONS = (
    "Ha ripreso a frequentare ma serve l'accompagnamento fino agli esami di giugno.",
    "Lo stage in azienda è stato prolungato: si estende l'accompagnamento per la certificazione delle competenze.",
)
REOPEN_REASONS = (
    "Contratto a termine non rinnovato: si riapre il patto per ridefinire gli obiettivi lavorativi.",
    "Nuova richiesta di sostegno dopo un cambiamento nella situazione familiare.",
)

OUTCOME_NOTES = {
    "work_entered": "Assunzione con contratto part-time a tempo determinato, con orari compatibili con gli impegni familiari.",
    "work_kept": "Mantenuto il posto di lavoro grazie alla riorganizzazione dei turni e ai servizi di conciliazione.",
    "school_reenrolled": "Iscrizione a un percorso di istruzione o formazione e frequenza regolare.",
    "housing_found": "Firmato un contratto di locazione a canone concordato.",
    "autonomy_improved": "Maggiore autonomia nell'accesso ai servizi e nella gestione delle pratiche; rete di sostegno attiva.",
    "no_change": "Obiettivi non raggiunti nonostante l'impegno; la persona resta seguita dai servizi ordinari.",
    "moved_away": "Trasferimento fuori territorio: passaggio di informazioni ai servizi del nuovo comune con il consenso della persona.",
    "vocational_training": "Iscrizione al centro di formazione professionale, frequenza regolare nel primo trimestre.",
    "apprenticeship": "Avviato un contratto di apprendistato dopo lo stage in azienda.",
    "exam_passed": "Superato l'esame di Stato conclusivo del primo ciclo al CPIA.",
    "skills_certified": "Certificate le competenze acquisite nello stage e nei laboratori.",
    "dropped_out": "Abbandono del percorso nonostante i tentativi di riaggancio; segnalazione ai servizi sociali.",
}
PACT_OUTCOME_WEIGHTS = {
    "TILDE": (("work_entered", 35), ("work_kept", 20), ("autonomy_improved", 20), ("no_change", 10), ("housing_found", 5), ("school_reenrolled", 5), ("moved_away", 5)),
    "FEMMINILI_PLURALI": (("autonomy_improved", 30), ("work_entered", 25), ("housing_found", 10), ("school_reenrolled", 10), ("no_change", 15), ("moved_away", 10)),
    "SISACT": (("work_entered", 30), ("housing_found", 25), ("autonomy_improved", 20), ("no_change", 20), ("moved_away", 5)),
    "RICOMINCIO": (("housing_found", 35), ("work_entered", 25), ("autonomy_improved", 30), ("moved_away", 10)),
    "CHANCE": (("school_reenrolled", 30), ("vocational_training", 25), ("apprenticeship", 10), ("exam_passed", 10), ("skills_certified", 10), ("dropped_out", 10), ("moved_away", 5)),
}
SCREENING_NOTES = (  # (needs, note) as in REFERRALS
    ("schoolkid", "Disponibile a lavorare su turni se i figli sono seguiti nel pomeriggio."),
    ("l2", "Buone competenze di sartoria acquisite nel paese d'origine; nessuna esperienza di lavoro regolare in Italia."),
    ("", "Ha lavorato per otto anni nel commercio; vorrebbe rientrare nello stesso settore."),
    ("F", "Motivata, ma con poca fiducia in se stessa dopo molti rifiuti."),
    ("M", "Motivato, ma con poca fiducia in se stesso dopo molti rifiuti."),
    ("", "Vive lontano dalle fermate dei mezzi pubblici; la mobilità è un limite per il lavoro."),
)

# Scenarios: (final state, variant). The first list of each workflow covers every state and
# is used for each programme; the weighted pool fills the rest.
PATTO_COVERAGE = (
    ("referral", None), ("screening", None), ("co_design", None), ("activation", None), ("follow_up", None),
    ("suspended", "follow_up"), ("not_eligible", None), ("withdrawn", "co_design"), ("closed", None),
)
PATTO_POOL = (
    (("referral", None), 4), (("screening", None), 6), (("co_design", None), 7), (("co_design", "reopened"), 2),
    (("activation", None), 6), (("activation", "reopened"), 2), (("follow_up", None), 20), (("follow_up", "resumed"), 5),
    (("suspended", "any"), 5), (("not_eligible", None), 4), (("withdrawn", "any"), 6), (("closed", None), 17),
    (("closed", "resumed"), 3),
)
CHANCE_COVERAGE = (
    ("referral", None), ("referral", "info_requested"), ("equipe_review", None), ("not_taken_in", None),
    ("engagement", None), ("individual_project", None), ("accompaniment", None), ("accompaniment", "extended"),
    ("verification", None), ("withdrawn", "engagement"), ("closed", None),
    # Left in the coordinator's approvals queue: two signed projects, one revised after a send-back.
    ("individual_project", "awaiting_approval"), ("individual_project", "awaiting_approval"),
    ("individual_project", "sent_back"),
)
CHANCE_POOL = (
    (("referral", None), 3), (("referral", "info_requested"), 1), (("equipe_review", None), 4), (("not_taken_in", None), 4),
    (("engagement", None), 5), (("individual_project", None), 5), (("accompaniment", None), 12),
    (("accompaniment", "extended"), 3), (("verification", None), 4), (("withdrawn", "any"), 5), (("closed", None), 12),
    (("closed", "extended"), 2),
)
DEADLINE_BUCKETS = (("overdue", 30), ("soon", 20), ("on_time", 50))

# --------------------------------------------------------------------------------------------
# Plans: sessions of operations separated by working days, scheduled back from `now`
# --------------------------------------------------------------------------------------------

Op = Callable[[Clock], None]


@dataclass
class _Session:
    gap: int  # working days after the previous session (0: same day)
    ops: list[Op]


@dataclass
class _Plan:
    sessions: list[_Session] = field(default_factory=list)
    anchor: int | None = None  # session whose age sets the current deadline

    def add(self, gap: int, *steps: Op) -> None:
        self.sessions.append(_Session(gap if self.sessions else 0, list(steps)))

    def mark(self) -> None:
        self.anchor = len(self.sessions) - 1


@dataclass
class _Person:
    first: str
    last: str
    gender: Gender
    birth: date
    birth_place: str
    cf_place: str
    migrant: bool
    citizenship: str
    origin: str | None  # key of ORIGINS, None for Italian background
    comune: Territory
    household: list[tuple[str, str, Relation, date | None]]
    codice_fiscale: str = ""


@dataclass
class _Case:
    spec: _ProgrammeSpec
    programme: Programme
    engine: WorkflowEngine
    manager: User
    person: _Person
    final: str
    variant: str | None
    severity: float
    beneficiary: Beneficiary | None = None
    pact: Pact | None = None
    goals: list[Goal] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    @property
    def is_chance(self) -> bool:
        return self.spec.workflow == "chance_dispersione"


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isalnum() and c.isascii()).lower()


def _weighted(rng: random.Random, items: Sequence[tuple[object, int]]) -> object:
    return rng.choices([item for item, _ in items], weights=[weight for _, weight in items])[0]


def _previous_working_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def _working_on_or_before(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def _sub_working_days(day: date, count: int) -> date:
    while count:
        day -= timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def _scale(gaps: list[int], limit: int) -> list[int]:
    total = sum(gaps)
    if total <= limit:
        return gaps
    factor = max(limit, 0) / total
    return [int(g * factor) for g in gaps]


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------------
# The loader
# --------------------------------------------------------------------------------------------


def load_demo(
    session: Session, registry: WorkflowRegistry, *, now: datetime, zone: ZoneInfo, seed: int = 2026
) -> DemoSummary:
    """Load the demo data unless it is already there; flushes, never commits.

    `zone` is Settings.zone: the demo's local days and office hours are counted in it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    accounts = demo_accounts()
    if session.scalar(select(Programme.id).where(Programme.code == MARKER_PROGRAMME)) is not None:
        return DemoSummary(
            created=False,
            accounts=accounts,
            beneficiaries=session.scalar(select(func.count()).select_from(Beneficiary)) or 0,
            pacts=session.scalar(select(func.count()).select_from(Pact)) or 0,
        )
    loader = _Loader(session, registry, now.astimezone(timezone.utc), zone, random.Random(seed))
    beneficiaries, pacts = loader.run()
    return DemoSummary(created=True, accounts=accounts, beneficiaries=beneficiaries, pacts=pacts)


class _Loader:
    def __init__(
        self, session: Session, registry: WorkflowRegistry, now: datetime, zone: ZoneInfo, rng: random.Random
    ):
        self.session = session
        self.registry = registry
        self.now = now
        self.zone = zone
        self.rng = rng
        self.today = now.astimezone(zone).date()
        self.territories: dict[str, Territory] = {}
        self.comuni: dict[str, list[tuple[Territory, int]]] = {}
        self.organisations: dict[str, Organisation] = {}
        self.users: dict[str, User] = {}
        self.programmes: dict[str, Programme] = {}
        self.used_cf: set[str] = set()

    # ---- reference data -------------------------------------------------------------------

    def run(self) -> tuple[int, int]:
        self._territories()
        self._organisations()
        self._users()
        self._programmes()
        self.session.flush()
        cases = self._cases()
        timed = self._schedule_all(cases)
        self._beneficiaries(cases, timed)
        for _, _, _, op, when in sorted(timed, key=lambda item: item[:3]):
            op(Clock(now=when, zone=self.zone))
        self.session.flush()
        return len(cases), sum(1 for case in cases if case.pact is not None)

    def _territories(self) -> None:
        for name, kind, comuni in TERRITORIES:
            parent = self.session.scalar(select(Territory).where(Territory.name == name, Territory.kind == kind))
            if parent is None:
                parent = Territory(name=name, kind=kind)
                self.session.add(parent)
            self.territories[name] = parent
            self.comuni[name] = []
            for comune_name, istat, weight in comuni:
                comune = self.session.scalar(select(Territory).where(Territory.istat_code == istat))
                if comune is None:
                    comune = Territory(name=comune_name, kind=TerritoryKind.COMUNE, istat_code=istat, parent=parent)
                    self.session.add(comune)
                self.territories[comune_name] = comune
                self.comuni[name].append((comune, weight))

    def _organisations(self) -> None:
        existing = {o.name: o for o in self.session.scalars(select(Organisation))}
        for name, kind, territory in ORGANISATIONS:
            organisation = existing.get(name)
            if organisation is None:
                organisation = Organisation(name=name, kind=kind, territory=self.territories[territory] if territory else None)
                self.session.add(organisation)
            self.organisations[name] = organisation

    def _users(self) -> None:
        created_at = datetime.combine(_add_months(self.today, -18), time(9, 0), tzinfo=self.zone).astimezone(timezone.utc)
        existing = {u.username: u for u in self.session.scalars(select(User).where(User.username.in_([s[0] for s in STAFF])))}
        for username, full_name, role, territory, organisation in STAFF:
            user = existing.get(username)
            if user is None:
                user = User(
                    username=username, full_name=full_name, email=f"{username}@example.org",
                    password_hash=hash_password(PASSWORD_PREFIX + username), role=role,
                    territory=self.territories[territory],
                    organisation=self.organisations[organisation] if organisation else None,
                    locale="it", active=True, created_at=created_at,
                )
                self.session.add(user)
            self.users[username] = user

    def _programmes(self) -> None:
        starts_on = _add_months(self.today, -18)
        ends_on = _add_months(self.today, 18)
        for spec in PROGRAMMES:
            programme = self.session.scalar(select(Programme).where(Programme.code == spec.code))
            if programme is None:
                self.registry.latest(spec.workflow)  # refuse early if the workflow is not loaded
                programme = Programme(
                    code=spec.code, name=spec.name, funder=spec.funder, description=spec.description,
                    territory=self.territories[spec.territory], starts_on=starts_on, ends_on=ends_on,
                    workflow_name=spec.workflow, restricted=spec.restricted, no_contact_days=spec.no_contact_days,
                    targets=[
                        ProgrammeTarget(indicator=indicator, value=Decimal(value), description=description)
                        for indicator, value, description in spec.targets
                    ],
                )
                self.session.add(programme)
            elif programme.workflow_name != spec.workflow:
                raise ValueError(f"programme {spec.code} exists with workflow {programme.workflow_name!r}, not {spec.workflow!r}")
            self.programmes[spec.code] = programme

    # ---- people ---------------------------------------------------------------------------

    def _birth(self, min_age: float, max_age: float) -> date:
        days = self.rng.randint(int(min_age * 365.25), int(max_age * 365.25))
        return self.today - timedelta(days=days)

    def _comune(self, spec: _ProgrammeSpec) -> Territory:
        options = [(c, w) for c, w in self.comuni[spec.territory] if not spec.comuni or c.name in spec.comuni]
        return _weighted(self.rng, options)  # type: ignore[return-value]

    def _person(self, spec: _ProgrammeSpec) -> _Person:
        rng = self.rng
        code = spec.code
        territory = spec.territory
        if code == "TILDE":
            gender, migrant, ages = Gender.FEMALE, rng.random() < 0.25, (24, 50)
        elif code == "FEMMINILI_PLURALI":
            gender, migrant, ages = (Gender.FEMALE if rng.random() < 0.85 else Gender.MALE), True, (22, 55)
        elif code == "CHANCE":
            gender, migrant, ages = (Gender.MALE if rng.random() < 0.6 else Gender.FEMALE), rng.random() < 0.3, (14, 17.9)
        elif code == "SISACT":
            gender, migrant, ages = (Gender.MALE if rng.random() < 0.85 else Gender.FEMALE), rng.random() < 0.3, (21, 60)
        else:  # RICOMINCIO
            gender, migrant, ages = Gender.FEMALE, rng.random() < 0.35, (22, 50)
        female = gender == Gender.FEMALE
        young = code == "CHANCE"
        birth = self._birth(*ages)
        origin_key: str | None = None
        if migrant:
            origin_key = str(_weighted(rng, FP_ORIGINS if code == "FEMMINILI_PLURALI" else OTHER_ORIGINS))
            origin = ORIGINS[origin_key]
            first = rng.choice((origin.girls if female else origin.boys) if young else (origin.women if female else origin.men))
            last = rng.choice(origin.surnames)
            born_in_italy = rng.random() < (0.55 if young else 0.1)
            if born_in_italy:
                birth_place = rng.choice(ITALIAN_BIRTHPLACES_YOUNG[territory])
                cf_place = birth_place
                citizenship = "Italia" if rng.random() < 0.4 else origin.country
            else:
                birth_place, cf_place, citizenship = origin.country, origin.cf_place, origin.country
        else:
            first = rng.choice((YOUNG_F if female else YOUNG_M) if young else (ITALIAN_F if female else ITALIAN_M))
            last = rng.choice(SURNAMES[territory])
            places = ITALIAN_BIRTHPLACES_YOUNG[territory] if young else ITALIAN_BIRTHPLACES[territory]
            birth_place = cf_place = rng.choice(places)
            citizenship = "Italia"
        person = _Person(
            first=first, last=last, gender=gender, birth=birth, birth_place=birth_place, cf_place=cf_place,
            migrant=migrant, citizenship=citizenship, origin=origin_key, comune=self._comune(spec), household=[],
        )
        self._household(person, code)
        return person

    def _given_name(self, origin_key: str | None, female: bool | None = None) -> str:
        if origin_key is None:
            if female is None:
                return self.rng.choice(CHILD_NAMES)
            return self.rng.choice(ITALIAN_F if female else ITALIAN_M)
        origin = ORIGINS[origin_key]
        if female is None:
            return self.rng.choice(origin.children)
        return self.rng.choice(origin.women if female else origin.men)

    def _surname(self, origin_key: str | None, territory: str) -> str:
        return self.rng.choice(ORIGINS[origin_key].surnames if origin_key else SURNAMES[territory])

    def _household(self, person: _Person, code: str) -> None:
        rng = self.rng
        territory = next(spec.territory for spec in PROGRAMMES if spec.code == code)
        age = (self.today - person.birth).days / 365.25
        female = person.gender == Gender.FEMALE
        if code == "CHANCE":
            mother_birth = person.birth - timedelta(days=rng.randint(22 * 365, 40 * 365))
            father_birth = mother_birth - timedelta(days=rng.randint(0, 6 * 365))
            person.household.append((self._given_name(person.origin, True), self._surname(person.origin, territory) if rng.random() < 0.6 else person.last, Relation.PARENT, mother_birth))
            if rng.random() < 0.7:
                person.household.append((self._given_name(person.origin, False), person.last, Relation.PARENT, father_birth))
            for _ in range(rng.choice((0, 1, 1, 2))):
                sibling_birth = person.birth + timedelta(days=rng.randint(-6 * 365, 8 * 365))
                if sibling_birth < self.today - timedelta(days=200):
                    person.household.append((self._given_name(person.origin), person.last, Relation.SIBLING, sibling_birth))
            return
        partner_chance = {"TILDE": 0.55, "FEMMINILI_PLURALI": 0.6, "SISACT": 0.3, "RICOMINCIO": 0.0}[code]
        partner_surname = None
        if rng.random() < partner_chance:
            partner_surname = self._surname(person.origin, territory)
            partner_birth = person.birth + timedelta(days=rng.randint(-8 * 365, 3 * 365) if female else rng.randint(-2 * 365, 8 * 365))
            person.household.append((self._given_name(person.origin, not female), partner_surname, Relation.PARTNER, partner_birth))
        children_choices = {"TILDE": (1, 1, 2, 2, 2, 3), "FEMMINILI_PLURALI": (0, 1, 1, 2, 2, 3, 4), "SISACT": (0, 0, 0, 1, 2), "RICOMINCIO": (1, 1, 2, 2, 3)}[code]
        children = rng.choice(children_choices)
        max_child_age = max(0.0, age - 19)
        for _ in range(children):
            child_age = rng.uniform(0.2, min(max_child_age, 17.5 if code != "SISACT" else 25)) if max_child_age > 0.2 else None
            if child_age is None:
                break
            child_birth = self.today - timedelta(days=int(child_age * 365.25))
            surname = partner_surname if (partner_surname and female) else (person.last if (not female or rng.random() < 0.6) else self._surname(person.origin, territory))
            person.household.append((self._given_name(person.origin), surname, Relation.CHILD, child_birth))
        if code == "SISACT" and rng.random() < 0.2:
            person.household.append((self._given_name(person.origin, True), person.last, Relation.PARENT, person.birth - timedelta(days=rng.randint(20 * 365, 35 * 365))))

    def _codice_fiscale(self, person: _Person) -> str:
        birth = person.birth
        for _ in range(40):
            try:
                code = codicefiscale.encode(
                    lastname=person.last, firstname=person.first, gender="F" if person.gender == Gender.FEMALE else "M",
                    birthdate=birth.strftime("%d/%m/%Y"), birthplace=person.cf_place,
                )
            except ValueError:
                code = ""
            if code and code not in self.used_cf and cf_is_valid(code):
                self.used_cf.add(code)
                person.birth = birth
                return code
            birth = birth + timedelta(days=self.rng.randint(1, 60))
            if birth > self.today:
                birth = person.birth - timedelta(days=self.rng.randint(1, 400))
        raise RuntimeError(f"cannot build a codice fiscale for {person.first} {person.last}")

    # ---- cases and their plans ------------------------------------------------------------

    def _cases(self) -> list[_Case]:
        self.used_cf = set(self.session.scalars(select(Beneficiary.codice_fiscale).where(Beneficiary.codice_fiscale.is_not(None))))
        cases: list[_Case] = []
        for spec in PROGRAMMES:
            engine = self.registry.latest(spec.workflow)
            coverage = CHANCE_COVERAGE if spec.workflow == "chance_dispersione" else PATTO_COVERAGE
            pool = CHANCE_POOL if spec.workflow == "chance_dispersione" else PATTO_POOL
            scenarios = list(coverage[: spec.size])
            while len(scenarios) < spec.size:
                scenarios.append(_weighted(self.rng, pool))  # type: ignore[arg-type]
            self.rng.shuffle(scenarios)
            for index, (final, variant) in enumerate(scenarios):
                manager = self.users[spec.managers[index % len(spec.managers)]]
                if final == "not_eligible":
                    severity = self.rng.uniform(0.0, 0.2)
                else:
                    severity = self.rng.uniform(0.2, 0.75)
                cases.append(_Case(
                    spec=spec, programme=self.programmes[spec.code], engine=engine, manager=manager,
                    person=self._person(spec), final=final, variant=variant, severity=severity,
                ))
        return cases

    def _schedule_all(self, cases: list[_Case]) -> list[tuple[datetime, int, int, Op, datetime]]:
        """Every operation of every case with its moment; sorted, they replay history in order."""
        timed: list[tuple[datetime, int, int, Op, datetime]] = []
        for number, case in enumerate(cases):
            plan = self._chance_plan(case) if case.is_chance else self._patto_plan(case)
            dates = self._dates(case, plan)
            moment: datetime | None = None
            sequence = 0
            for session_, day in zip(plan.sessions, dates, strict=True):
                start = datetime.combine(day, time(8, 45), tzinfo=self.zone) + timedelta(minutes=self.rng.randint(0, 420))
                start = start.astimezone(timezone.utc)
                if moment is not None and start <= moment:
                    start = moment + timedelta(minutes=self.rng.randint(5, 20))
                for step in session_.ops:
                    moment = start if moment is None or start > moment else moment + timedelta(minutes=self.rng.randint(1, 4))
                    start = moment
                    if moment > self.now:
                        raise RuntimeError("demo schedule went past now")  # a bug in the scheduler
                    timed.append((moment, number, sequence, step, moment))
                    sequence += 1
        return timed

    def _dates(self, case: _Case, plan: _Plan) -> list[date]:
        rng = self.rng
        sessions = plan.sessions
        anchor = plan.anchor if plan.anchor is not None else len(sessions) - 1
        state = case.engine.definition.states[case.final]
        if state.final or not state.deadlines:
            age = rng.randint(1, 120)
        else:
            rule = state.deadlines[0]
            length = (due_date(rule, self.now, self.zone) - self.today).days
            bucket = _weighted(rng, DEADLINE_BUCKETS)
            if bucket == "overdue":
                age = length + rng.randint(2, 25)
            elif bucket == "soon":
                age = length - rng.randint(0, 4)
            else:
                age = rng.randint(1, max(1, length - 7))
            age = max(1, age)
        latest = _previous_working_day(self.today)
        anchor_day = min(_working_on_or_before(self.today - timedelta(days=age)), latest)
        after = _scale([s.gap for s in sessions[anchor + 1:]], working_days_between(anchor_day, latest))
        earliest = self.today - timedelta(days=MAX_HISTORY_DAYS)
        before = _scale([s.gap for s in sessions[1: anchor + 1]], max(0, working_days_between(earliest, anchor_day)))
        day = _sub_working_days(anchor_day, sum(before))
        dates = [day]
        for gap in before + after:
            day = add_working_days(day, gap)
            dates.append(day)
        return dates

    # ---- patto personalizzato -------------------------------------------------------------

    def _patto_plan(self, case: _Case) -> _Plan:
        rng = self.rng
        p = _Plan()
        final, variant = case.final, case.variant
        g = rng.randint
        order = ["referral", "screening", "co_design", "activation", "follow_up", "closed"]
        side_from: str | None = None
        if final in ("suspended", "withdrawn"):
            options = ["screening", "co_design", "activation", "follow_up"]
            if final == "withdrawn":
                options += ["referral", "suspended"]
            side_from = variant if variant not in (None, "any") else rng.choice(options)
        if final == "withdrawn" and side_from == "suspended":
            suspended_from = rng.choice(["screening", "co_design", "activation", "follow_up"])
            stop = suspended_from
        else:
            suspended_from = None
            stop = side_from or final
        if final == "not_eligible":
            stop = "screening"
        if variant == "reopened":
            stop = "closed"
        stop_index = order.index(stop)

        opening: list[Op] = [self._op_open(case)]
        if not (final == "referral" and rng.random() < 0.25):
            opening.append(self._op_referral(case))
        if case.spec.code in ("SISACT", "RICOMINCIO") and rng.random() < 0.7:
            opening.append(self._op_external_member(case))
        p.add(0, *opening)
        if final in ("referral", "screening"):
            p.mark()  # their deadline counts from the opening
        if stop_index >= 1:
            p.add(g(1, 4), self._op_transition(case, "start_screening"))
            if stop == "screening" and (final == "not_eligible" or rng.random() < 0.5):
                p.add(g(0, 3), self._op_screening(case))
        if stop_index >= 2:
            p.add(g(1, 5), self._op_screening(case), self._op_transition(case, "start_co_design"))
            if final == "co_design" and variant is None:
                p.mark()
            if stop == "co_design":
                if rng.random() < 0.7:
                    p.add(g(2, 8), self._op_design(case, partial=True))
            else:
                design: list[Op] = [self._op_design(case)]
                if case.spec.code == "FEMMINILI_PLURALI" and case.person.migrant and rng.random() < 0.4:
                    design.append(self._op_mediator(case))
                p.add(g(3, 10), *design)
        if stop_index >= 3:
            p.add(g(2, 8), self._op_sign(case), self._op_transition(case, "activate"))
            if final == "activation" and variant is None:
                p.mark()
            if stop == "activation" and rng.random() < 0.4:
                p.add(g(1, 6), self._op_start_action(case))
        if stop_index >= 4:
            p.add(g(2, 10), self._op_start_action(case), self._op_transition(case, "start_follow_up"))
            contacts = g(2, 5) if stop == "closed" else g(0, 4)
            pause_at = g(0, max(0, contacts - 1)) if variant == "resumed" else -1
            for number in range(contacts):
                p.add(g(14, 22), self._op_contact(case, progress=rng.random() < 0.4))
                if number == pause_at:
                    p.add(g(2, 10), self._op_transition(case, "suspend", self._reason(case, SUSPEND_REASONS)))
                    p.add(g(10, 35), self._op_transition(case, "resume", rng.choice(RESUME_REASONS)), self._op_contact(case))
            if stop == "follow_up" and variant == "resumed" and contacts == 0:
                p.add(g(2, 10), self._op_transition(case, "suspend", self._reason(case, SUSPEND_REASONS)))
                p.add(g(10, 35), self._op_transition(case, "resume", rng.choice(RESUME_REASONS)))
        if stop_index >= 5:
            p.add(g(3, 15), self._op_contact(case, closing=True), self._op_outcome(case), self._op_transition(case, "close"))
        # side exits and returns
        if final == "not_eligible":
            p.add(g(0, 4), self._op_transition(case, "declare_not_eligible", rng.choice(NOT_ELIGIBLE_REASONS)))
        elif final == "suspended":
            p.add(g(2, 12), self._op_transition(case, "suspend", self._reason(case, SUSPEND_REASONS)))
            p.mark()
        elif final == "withdrawn":
            if suspended_from is not None:
                p.add(g(2, 12), self._op_transition(case, "suspend", self._reason(case, SUSPEND_REASONS)))
            p.add(g(3, 25), self._op_withdraw(case, WITHDRAW_REASONS))
        elif variant == "reopened":
            p.add(g(10, 40), self._op_transition(case, "reopen", rng.choice(REOPEN_REASONS)))
            if final == "co_design":
                p.mark()
                if rng.random() < 0.5:
                    p.add(g(2, 8), self._op_design(case, partial=True))
            else:  # a revised pact, signed as revision 2 and activated again
                p.add(g(3, 10), self._op_design(case, partial=True, with_action=True))
                p.add(g(2, 6), self._op_sign(case), self._op_transition(case, "activate"))
                p.mark()
        if final == "follow_up":
            p.mark()  # the next contact counts from the last one
        return p

    # ---- CHANCE ---------------------------------------------------------------------------

    def _chance_plan(self, case: _Case) -> _Plan:
        rng = self.rng
        p = _Plan()
        final, variant = case.final, case.variant
        g = rng.randint
        withdraw_from = None
        if final == "withdrawn":
            options = ["referral", "equipe_review", "engagement", "individual_project", "accompaniment", "verification"]
            withdraw_from = variant if variant not in (None, "any") else rng.choice(options)
        stop = withdraw_from or final
        order = ["referral", "equipe_review", "engagement", "individual_project", "accompaniment", "verification", "closed"]
        if stop == "not_taken_in" or variant == "info_requested":
            stop_index = 1
        else:
            stop_index = order.index(stop)

        opening: list[Op] = [self._op_open(case)]
        if not (final == "referral" and variant is None and rng.random() < 0.3):
            opening.append(self._op_referral(case))
        p.add(0, *opening)
        if final == "referral" and variant is None:
            p.mark()
        if stop_index >= 1:
            p.add(g(1, 4), self._op_transition(case, "submit_to_equipe"))
            if final == "equipe_review":
                p.mark()
            members = [self._op_equipe_user(case)] + [self._op_external_member(case) for _ in range(g(1, 2))]
            if final == "equipe_review" and rng.random() < 0.4:
                members = []
            if members:
                p.add(g(1, 4), *members)
            if variant == "info_requested":
                p.add(g(1, 5), self._op_transition(case, "request_information", rng.choice(REQUEST_INFO_REASONS)))
                if final == "referral":
                    p.mark()
                else:
                    p.add(g(2, 8), self._op_referral(case, update=True), self._op_transition(case, "submit_to_equipe"))
            if final == "not_taken_in":
                p.add(g(1, 6), self._op_transition(case, "decline_case", rng.choice(DECLINE_REASONS)))
        if stop_index >= 2:
            p.add(g(0, 3), self._op_transition(case, "take_in"))
            if final == "engagement":
                p.mark()
                if rng.random() < 0.6:
                    p.add(g(3, 10), self._op_screening(case))
            else:
                p.add(g(3, 10), self._op_screening(case))
        if stop_index >= 3:
            p.add(g(1, 5), self._op_transition(case, "start_project"))
            if final == "individual_project":
                p.mark()
                if variant in ("awaiting_approval", "sent_back"):
                    p.add(g(3, 10), self._op_design(case))
                    p.add(g(2, 6), self._op_sign(case))
                if variant == "sent_back":
                    p.add(g(1, 4), self._op_decide(case, ApprovalDecision.SENT_BACK))
                    p.add(g(2, 6), self._op_design(case, partial=True, with_action=True), self._op_sign(case))
                elif variant is None and rng.random() < 0.7:
                    p.add(g(3, 10), self._op_design(case, partial=rng.random() < 0.5))
            else:
                p.add(g(3, 10), self._op_design(case))
        if stop_index >= 4:
            # The coordinator approves the signed project before the accompaniment starts.
            p.add(g(3, 10), self._op_sign(case), self._op_start_action(case))
            p.add(g(1, 3), self._op_decide(case, ApprovalDecision.APPROVED), self._op_transition(case, "start_accompaniment"))
            rounds = 2 if variant == "extended" else 1
            for round_ in range(rounds):
                contacts = g(1, 4) if (stop == "accompaniment" and round_ == rounds - 1) else g(3, 6)
                for _ in range(contacts):
                    p.add(g(7, 11), self._op_contact(case, progress=rng.random() < 0.3))
                if round_ < rounds - 1 or stop_index >= 5:
                    p.add(g(1, 5), self._op_transition(case, "verify"))
                if round_ < rounds - 1:
                    p.add(g(2, 10), self._op_transition(case, "extend", rng.choice(EXTEND_REASONS)))
            if final == "verification":
                p.mark()
        if stop_index >= 6:
            p.add(g(2, 12), self._op_outcome(case), self._op_transition(case, "close"))
        if final == "withdrawn":
            p.add(g(3, 20), self._op_withdraw(case, CHANCE_WITHDRAW_REASONS))
        if final == "accompaniment":
            p.mark()
        return p

    # ---- operations -----------------------------------------------------------------------

    def _local_day(self, clock: Clock) -> date:
        return clock.now.astimezone(clock.zone).date()

    def _op_open(self, case: _Case) -> Op:
        def run(clock: Clock) -> None:
            pact = ops.open_pact(
                self.session, self.registry, beneficiary=case.beneficiary, programme=case.programme,  # type: ignore[arg-type]
                case_manager=case.manager, actor=case.manager, clock=clock,
            )
            case.pact = pact
        return run

    def _op_referral(self, case: _Case, update: bool = False) -> Op:
        def run(clock: Clock) -> None:
            female = case.person.gender == Gender.FEMALE
            options = [r for r in REFERRALS[case.spec.code] if self._fits(case, r[0])] or [
                r for r in REFERRALS[case.spec.code] if ("F" if female else "M") in r[0].split()[0]
            ]
            _, source, referrer, reason = self.rng.choice(options)
            if update and case.pact is not None and case.pact.referral is not None:
                source, referrer = case.pact.referral.source, case.pact.referral.referrer_name
                reason = case.pact.referral.reason + " Integrazione del segnalante: inviate le informazioni richieste dall'équipe."
            contact = "" if source == ReferralSource.SELF else f"segnalazioni.{_ascii(referrer)[:20] or 'servizio'}@example.org"
            ops.record_referral(
                self.session, case.pact, source=source, reason=reason,  # type: ignore[arg-type]
                referred_on=self._local_day(clock) - timedelta(days=0 if update else self.rng.randint(0, 6)),
                referrer_name=referrer, referrer_contact=contact, actor=case.manager, clock=clock,
            )
        return run

    def _fits(self, case: _Case, needs: str) -> bool:
        """Whether a text suits the person: genders first ("F", "M", "FM"), then tags."""
        person = case.person
        children = [m[3] for m in person.household if m[2] == Relation.CHILD and m[3] is not None]
        ages = [(self.today - born).days / 365.25 for born in children]
        checks = {
            "F": person.gender == Gender.FEMALE, "M": person.gender != Gender.FEMALE,
            "kids": bool(ages), "baby": any(age < 3 for age in ages), "schoolkid": any(6 <= age < 14 for age in ages),
            "single": not any(m[2] == Relation.PARTNER for m in person.household),
            "migrant": person.migrant, "l2": person.migrant and person.birth_place == person.citizenship,
            "permit": person.migrant and person.citizenship != "Italia",
        }
        tokens = needs.split()
        if tokens and set(tokens[0]) <= {"F", "M"}:
            if not any(checks[g] for g in tokens[0]):
                return False
            tokens = tokens[1:]
        return all(checks[token] for token in tokens)

    def _reason(self, case: _Case, options: Sequence[tuple[str, str]]) -> str:
        return self.rng.choice([text for needs, text in options if self._fits(case, needs)])

    def _op_transition(self, case: _Case, event: str, comment: str = "", reason: str | None = None) -> Op:
        def run(clock: Clock) -> None:
            ops.transition_pact(self.session, self.registry, case.pact, event, actor=case.manager, clock=clock,  # type: ignore[arg-type]
                                comment=comment, reason=reason)
        return run

    def _op_withdraw(self, case: _Case, reasons: Sequence[tuple[str, str]]) -> Op:
        code, note = self.rng.choice(reasons)
        return self._op_transition(case, "withdraw", note, reason=code)

    def _op_decide(self, case: _Case, decision: ApprovalDecision) -> Op:
        """The Lodi coordinator's decision on the project's latest revision."""
        comment = self.rng.choice(SEND_BACK_COMMENTS) if decision == ApprovalDecision.SENT_BACK else ""

        def run(clock: Clock) -> None:
            decide(self.session, self.registry, self.users["s.cremonesi"], case.pact, expected_version=None,  # type: ignore[arg-type]
                   decision=decision, comment=comment, now=clock.now)
        return run

    def _answer(self, question: Question, level: float, case: _Case) -> object:
        rng = self.rng
        if question.type == "choice":
            options = sorted(question.options, key=lambda o: o.score)
            return options[min(len(options) - 1, max(0, round(level * (len(options) - 1))))].value
        if question.type == "boolean":
            return rng.random() < level * 0.8
        if question.type == "scale":
            return question.minimum + round(level * (question.maximum - question.minimum))
        if question.type == "number":
            return round(level * 2.4)
        return rng.choice([note for needs, note in SCREENING_NOTES if self._fits(case, needs)])

    def _answers(self, questionnaire: Questionnaire, case: _Case) -> dict[str, object]:
        rng = self.rng
        person = case.person
        children = [m for m in person.household if m[2] == Relation.CHILD and m[3] and (self.today - m[3]).days < 14 * 365]
        hints: dict[str, object] = {}
        if person.migrant and person.birth_place == person.citizenship:
            hints["conoscenza_italiano"] = rng.choice((1, 1, 2, 2, 3)) if case.severity > 0.2 else 1
            hints["documenti_in_regola"] = rng.choice(("si", "si", "in_rinnovo", "in_rinnovo", "no"))
            hints["titolo_studio"] = rng.choice(("nessuno", "nessuno", "licenza_media", "diploma"))
        elif not person.migrant or person.citizenship == "Italia":
            hints["conoscenza_italiano"] = 0
            hints["documenti_in_regola"] = "si"
        if case.spec.code != "CHANCE":
            hints["carichi_cura"] = min(3, len(children)) if case.severity > 0.2 else min(1, len(children))
        answers: dict[str, object] = {}
        for question in questionnaire.questions:
            if question.type == "text" and not question.required and rng.random() < 0.6:
                continue
            hint = hints.get(question.id)
            if hint is not None and self._valid(question, hint):
                answers[question.id] = hint
                continue
            level = min(1.0, max(0.0, case.severity + rng.uniform(-0.3, 0.3)))
            answers[question.id] = self._answer(question, level, case)
        return answers

    @staticmethod
    def _valid(question: Question, value: object) -> bool:
        if question.type == "choice":
            return any(o.value == value for o in question.options)
        if question.type == "scale":
            return isinstance(value, int) and question.minimum <= value <= question.maximum
        return True

    def _op_screening(self, case: _Case) -> Op:
        def run(clock: Clock) -> None:
            questionnaire = case.engine.definition.questionnaire
            if questionnaire is None:
                return
            ops.record_screening(
                self.session, self.registry, case.pact, self._answers(questionnaire, case),  # type: ignore[arg-type]
                actor=case.manager, clock=clock,
            )
        return run

    def _goal_options(self, case: _Case, area: str, used: set[str]) -> list[tuple[str, tuple[tuple[Performer, str, str], ...]]]:
        """Goals of the area that suit the person and are not in the pact yet, programme's own first."""
        if case.is_chance:
            banks = [CHANCE_GOALS.get(area, ())]
        else:
            banks = [PROGRAMME_GOALS.get(case.spec.code, {}).get(area, ()), PACT_GOALS.get(area, ())]
        for bank in banks:
            options = [e for e in bank if e[0] not in used and self._fits(case, GOAL_NEEDS.get(e[0], ""))]
            if options:
                return options
        return []

    def _areas(self, case: _Case) -> list[str]:
        """Need areas for goals: the screening's highest scores first, then the programme's usual ones."""
        screening = case.pact.latest_screening if case.pact is not None else None
        profile = dict(screening.need_profile) if screening is not None else {}
        ranked = [area for area, score in sorted(profile.items(), key=lambda item: -item[1]) if score > 0]
        defaults = {
            "CHANCE": ["istruzione", "relazioni"], "RICOMINCIO": ["casa", "lavoro", "salute"],
            "SISACT": ["lavoro", "casa"],
        }.get(case.spec.code, ["lavoro", "relazioni", "istruzione"])
        areas: list[str] = []
        for area in ranked + defaults:
            if area not in areas and self._goal_options(case, area, set()):
                areas.append(area)
        return areas

    def _detail(self, case: _Case, text: str) -> str:
        return text.format(**SERVICE_DETAILS.get(case.spec.code, SERVICE_DETAILS["TILDE"])) if "{" in text else text

    def _add_goal(self, case: _Case, clock: Clock, area: str, used: set[str], with_actions: bool) -> None:
        rng = self.rng
        options = self._goal_options(case, area, used)
        if not options:
            return
        text, actions = rng.choice(options)
        used.add(text)
        day = self._local_day(clock)
        goal = ops.add_goal(
            self.session, case.pact, description=text, need_area=area,  # type: ignore[arg-type]
            target_date=day + timedelta(days=rng.randint(60, 180)), clock=clock,
        )
        case.goals.append(goal)
        if not with_actions:
            return
        for performer, detail, description in actions[: rng.randint(1, min(2, len(actions)))]:
            case.actions.append(ops.add_action(
                self.session, case.pact, description=description, performer=performer,  # type: ignore[arg-type]
                performer_detail=self._detail(case, detail), due_on=day + timedelta(days=rng.randint(10, 75)),
                goal=goal, clock=clock,
            ))

    def _op_design(self, case: _Case, partial: bool = False, with_action: bool = False) -> Op:
        def run(clock: Clock) -> None:
            rng = self.rng
            areas = self._areas(case)
            used = {goal.description for goal in case.goals}
            if partial:
                fresh = [a for a in areas if self._goal_options(case, a, used)] or areas
                self._add_goal(case, clock, fresh[0] if not case.goals else rng.choice(fresh), used, with_actions=with_action or rng.random() < 0.5)
                return
            for area in areas[: rng.choice((1, 1, 2, 2, 2, 3))]:
                self._add_goal(case, clock, area, used, with_actions=True)
            commitments = CHANCE_COMMITMENTS if case.is_chance else PACT_COMMITMENTS
            parties = [Performer.BENEFICIARY, Performer.CASE_MANAGER]
            has_family = any(m[2] in (Relation.PARTNER, Relation.PARENT) for m in case.person.household)
            if case.is_chance or (has_family and rng.random() < 0.6):
                parties.append(Performer.FAMILY)
            if rng.random() < 0.4:
                parties.append(Performer.SERVICE)
            for party in parties:
                ops.add_commitment(self.session, case.pact, party=party, text=rng.choice(commitments[party]), clock=clock)  # type: ignore[arg-type]
        return run

    def _ensure_action(self, case: _Case, clock: Clock) -> None:
        """A pact is signed with at least one live action: complete a partial design if needed."""
        if any(a.status != ActionStatus.CANCELLED for a in case.actions):
            return
        used = {g.description for g in case.goals}
        for area in self._areas(case):
            self._add_goal(case, clock, area, used, with_actions=True)
            if any(a.status != ActionStatus.CANCELLED for a in case.actions):
                return
        goal = case.goals[-1] if case.goals else None
        case.actions.append(ops.add_action(
            self.session, case.pact, description="Colloquio di verifica degli impegni del patto rivisto",  # type: ignore[arg-type]
            performer=Performer.CASE_MANAGER, due_on=self._local_day(clock) + timedelta(days=14), goal=goal, clock=clock,
        ))

    def _op_sign(self, case: _Case) -> Op:
        def run(clock: Clock) -> None:
            pact = case.pact
            assert pact is not None
            self._ensure_action(case, clock)
            person = case.person
            if case.is_chance:
                parent = next((m for m in person.household if m[2] == Relation.PARENT), None)
                parent_text = f"; {parent[0]} {parent[1]} (genitore)" if parent else ""
                signed_by = f"{person.first} {person.last}{parent_text}; {case.manager.full_name} (tutor CHANCE)"
            else:
                signed_by = f"{person.first} {person.last}; {case.manager.full_name} (welfare manager di caso)"
            ops.sign_pact(
                self.session, pact, signed_on=self._local_day(clock), signed_by=signed_by, consent_given=True,
                actor=case.manager, clock=clock,
            )
        return run

    def _op_start_action(self, case: _Case) -> Op:
        def run(clock: Clock) -> None:
            planned = [a for a in case.actions if a.status == ActionStatus.PLANNED]
            if planned and not any(a.status == ActionStatus.IN_PROGRESS for a in case.actions):
                ops.set_action_status(self.session, planned[0], ActionStatus.IN_PROGRESS, clock=clock)
        return run

    def _op_contact(self, case: _Case, progress: bool = False, closing: bool = False) -> Op:
        def run(clock: Clock) -> None:
            rng = self.rng
            pact = case.pact
            assert pact is not None
            said = {c.notes for c in pact.contacts[-2:]}
            options = [c for c in (CHANCE_CONTACTS if case.is_chance else PACT_CONTACTS) if self._fits(case, c[0]) and c[2] not in said]
            _, channel, notes = rng.choice(options)
            if closing:
                channel, notes = ContactChannel.IN_PERSON, "Colloquio di verifica finale: ripercorsi obiettivi e azioni del patto, condiviso l'esito."
            contact_at = max(clock.now - timedelta(minutes=rng.randint(0, 90)), pact.state_entered_at)
            every = case.programme.no_contact_days
            ops.log_contact(
                self.session, self.registry, pact, contact_at=contact_at, channel=channel, notes=notes,
                next_contact_on=None if closing else contact_at.astimezone(self.zone).date() + timedelta(days=every),
                actor=case.manager, clock=clock,
            )
            if progress:
                running = [a for a in case.actions if a.status == ActionStatus.IN_PROGRESS]
                planned = [a for a in case.actions if a.status == ActionStatus.PLANNED]
                if running:
                    ops.set_action_status(self.session, running[0], ActionStatus.DONE, clock=clock)
                if planned:
                    ops.set_action_status(self.session, planned[0], ActionStatus.IN_PROGRESS, clock=clock)
        return run

    def _op_outcome(self, case: _Case) -> Op:
        def run(clock: Clock) -> None:
            rng = self.rng
            pact = case.pact
            assert pact is not None
            outcomes = case.engine.definition.outcomes
            weights = [(code, w) for code, w in PACT_OUTCOME_WEIGHTS.get(case.spec.code, ()) if code in outcomes]
            outcome = str(_weighted(rng, weights)) if weights else next(iter(outcomes))
            if outcome in ("no_change", "dropped_out"):
                achieved = GoalsAchieved.NOT if rng.random() < 0.7 else GoalsAchieved.PARTLY
            elif outcome == "moved_away":
                achieved = GoalsAchieved.PARTLY if rng.random() < 0.5 else GoalsAchieved.NOT
            else:
                achieved = GoalsAchieved.FULLY if rng.random() < 0.6 else GoalsAchieved.PARTLY
            ops.record_outcome(
                self.session, self.registry, pact, outcome=outcome, goals_achieved=achieved,
                notes=OUTCOME_NOTES.get(outcome, ""), actor=case.manager, clock=clock,
            )
            # Close the loose ends: actions done or cancelled, goals assessed.
            for index, action in enumerate(case.actions):
                if action.status in (ActionStatus.DONE, ActionStatus.CANCELLED):
                    continue
                done = achieved == GoalsAchieved.FULLY or (achieved == GoalsAchieved.PARTLY and index % 2 == 0)
                ops.set_action_status(self.session, action, ActionStatus.DONE if done else ActionStatus.CANCELLED, clock=clock)
            for index, goal in enumerate(case.goals):
                if goal.status != ItemStatus.OPEN:
                    continue
                if achieved == GoalsAchieved.FULLY:
                    status = ItemStatus.ACHIEVED
                elif achieved == GoalsAchieved.PARTLY:
                    status = ItemStatus.ACHIEVED if index == 0 else ItemStatus.PARTLY_ACHIEVED
                else:
                    status = ItemStatus.NOT_ACHIEVED
                ops.set_goal_status(self.session, goal, status, clock=clock)
        return run

    def _op_equipe_user(self, case: _Case) -> Op:
        def run(clock: Clock) -> None:
            colleagues = [self.users[u] for u in case.spec.managers if self.users[u] is not case.manager]
            if colleagues and self.rng.random() < 0.6:
                user = colleagues[0]
                role = "educatrice dell'équipe CHANCE" if user.username == "a.boffelli" else "educatore dell'équipe CHANCE"
            else:
                user, role = self.users["s.cremonesi"], "coordinatrice dell'équipe"
            ops.add_member(self.session, case.pact, role=role, user=user, clock=clock)  # type: ignore[arg-type]
        return run

    def _op_external_member(self, case: _Case) -> Op:
        def run(clock: Clock) -> None:
            rng = self.rng
            code = case.spec.code
            # (role for a man, role for a woman, organisation); None: that role is not offered
            if code == "CHANCE":
                options: tuple[tuple[str | None, str, str], ...] = (
                    ("referente scolastico per la dispersione", "referente scolastica per la dispersione", "Istituto Comprensivo Lodi III"),
                    ("docente del percorso di primo livello", "docente del percorso di primo livello", "CPIA Lodi"),
                    ("educatore", "educatrice", "Famiglia Nuova Società Cooperativa Sociale"),
                    ("orientatore", "orientatrice", "Azienda Speciale Consortile del Lodigiano per i Servizi alla Persona - CFP"),
                    (None, "mediatrice linguistico-culturale", "Emmanuele Società Cooperativa Sociale Onlus"),
                    ("assistente sociale", "assistente sociale", "Comune di Lodi"),
                )
            elif code == "SISACT":
                options = (("funzionario di servizio sociale", "funzionaria di servizio sociale", "UEPE - Ufficio di Esecuzione Penale Esterna di Lodi"),)
            else:
                options = ((None, "operatrice di accoglienza", "La Metà di Niente - Centro antiviolenza"),)
            male_role, female_role, organisation = rng.choice(options)
            female = male_role is None or rng.random() < 0.7
            first = rng.choice(ITALIAN_F if female else ITALIAN_M)
            last = rng.choice(SURNAMES[LODI])
            ops.add_member(
                self.session, case.pact, role=female_role if female else str(male_role),  # type: ignore[arg-type]
                external_name=f"{first} {last}", organisation=organisation,
                contact=f"{_ascii(first)}.{_ascii(last)}@example.org", clock=clock,
            )
        return run

    def _op_mediator(self, case: _Case) -> Op:
        def run(clock: Clock) -> None:
            origin = ORIGINS.get(case.person.origin or "")
            name = f"{self.rng.choice(origin.women)} {self.rng.choice(origin.surnames)}" if origin else "Mediatrice del progetto"
            ops.add_member(
                self.session, case.pact, role="mediatrice linguistico-culturale", external_name=name,  # type: ignore[arg-type]
                organisation="Renken Onlus", contact="mediazione@example.org", clock=clock,
            )
        return run

    # ---- beneficiaries --------------------------------------------------------------------

    def _beneficiaries(self, cases: list[_Case], timed: list[tuple[datetime, int, int, Op, datetime]]) -> None:
        opened: dict[int, datetime] = {}
        for moment, number, _, _, _ in timed:
            if number not in opened or moment < opened[number]:
                opened[number] = moment
        rng = self.rng
        for number, case in enumerate(cases):
            person = case.person
            person.codice_fiscale = self._codice_fiscale(person)
            created = opened[number] - timedelta(minutes=rng.randint(5, 60))
            email = ""
            if rng.random() < (0.4 if case.is_chance else 0.7):
                email = f"{_ascii(person.first)}.{_ascii(person.last)}{rng.randint(1, 99)}@example.org"
            case.beneficiary = Beneficiary(
                first_name=person.first, last_name=person.last, codice_fiscale=person.codice_fiscale,
                birth_date=person.birth, birth_place=person.birth_place, gender=person.gender,
                migrant_background=person.migrant, citizenship=person.citizenship, comune=person.comune,
                address=f"{rng.choice(STREETS)} {rng.randint(1, 140)}",
                phone=f"+39 3{rng.randint(20, 49)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                email=email, created_at=created, updated_at=created,
                household=[
                    HouseholdMember(first_name=first, last_name=last, relation=relation, birth_date=birth)
                    for first, last, relation, birth in person.household
                ],
            )
        self.session.add_all([case.beneficiary for case in cases if case.beneficiary is not None])
        self.session.flush()
