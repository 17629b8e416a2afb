"""What the bot says in its own words, in each language it speaks."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "it": {
        "clarify": "Non sono sicuro di aver capito. Intendevi una di queste?",
        "clarify_one": "Non sono sicuro di aver capito. Intendevi questo?",
        "clarify_hint": "Rispondi con il numero, riformula la domanda "
        "o scrivi «operatore» per parlare con una persona.",
        "handoff": "Ti metto in contatto con una persona del nostro servizio clienti.",
        "handoff_low_confidence": "Non ho trovato una risposta sicura alla tua domanda: "
        "ti metto in contatto con una persona del nostro servizio clienti.",
        "handoff_requested": "Certo, ti metto in contatto con una persona del nostro servizio clienti.",
        "handoff_repeated_miss": "Mi dispiace, non riesco ad aiutarti: "
        "ti metto in contatto con una persona del nostro servizio clienti.",
        "none_fit": "Mi dispiace, allora non ho capito bene: puoi scrivermelo con altre parole? "
        "Se preferisci, scrivi «operatore» e ti passo a una persona.",
        "offer_person": "Se ti serve ancora aiuto, scrivi «operatore» e ti passo a una persona.",
        "helpful": "Ti è stata utile questa risposta?",
        "follow_ups": "Potrebbe interessarti anche:",
        "handoff_eta": "Tempo di attesa stimato: circa {minutes} minuti.",
        "handoff_open": "Un operatore ti risponderà qui: l'attesa stimata è di circa {minutes} minuti.",
        "handoff_open_one": "Un operatore ti risponderà qui: l'attesa stimata è di circa un minuto.",
        "handoff_queue_one": "Prima di te c'è un'altra persona in attesa.",
        "handoff_queue": "Prima di te ci sono {ahead} persone in attesa.",
        "handoff_nobody_online": "In questo momento nessun operatore è collegato: "
        "ti risponderemo appena possibile.",
        "handoff_nobody_online_email": "In questo momento nessun operatore è collegato: se non vuoi "
        "aspettare, lasciaci il tuo indirizzo e-mail e ti risponderemo lì.",
        "agent_named_joined": "Ti risponde {name} del servizio clienti.",
        "contact_kept": "Grazie: se chiudi la chat ti risponderemo a {email}.",
        "customer_left": "Il cliente ha chiuso la conversazione.",
        "handoff_closed_email": "Il servizio clienti ora è chiuso: riapre {when}. Scrivi qui il tuo "
        "indirizzo e-mail e ti risponderemo per e-mail entro quel momento.",
        "handoff_closed_here": "Il servizio clienti ora è chiuso: riapre {when} e ti risponderemo qui.",
        "handoff_closed_email_known": "Il servizio clienti ora è chiuso: riapre {when}. Ti risponderemo "
        "per e-mail a {email} entro quel momento.",
        "handoff_soon": "appena possibile",
        "handoff_unhelpful": "Mi dispiace che la risposta non ti sia stata utile: ti passo a una persona.",
        "agent_joined": "Un operatore ha preso in carico la conversazione.",
        "back_to_bot": "L'operatore ha chiuso la conversazione: da qui in poi ti risponde di nuovo "
        "l'assistente.",
        "greeting": "Ciao! Sono l'assistente del servizio clienti: scrivimi la tua domanda. "
        "Se ti serve una persona, scrivi «operatore».",
        "page_greeting": "Ciao {{user_first_name}}! Scrivici la tua domanda: l'assistente risponde "
        "subito, e una persona quando serve.",
        "text_only": "Per ora riesco a leggere solo messaggi di testo: scrivimi la tua domanda a parole, "
        "per favore.",
        "start_over": "Ricominciamo da capo: scrivimi la tua domanda.",
        "feedback_thanks": "Grazie del riscontro!",
        "smalltalk_greeting": "Ciao! Sono l'assistente del servizio clienti: scrivimi la tua domanda. "
        "Se ti serve una persona, scrivi «operatore».",
        "smalltalk_thanks": "Prego! Se hai un'altra domanda, scrivimela pure.",
        "smalltalk_goodbye": "Grazie a te, buona giornata! Se ti serve altro, scrivimi quando vuoi.",
        "smalltalk_ack": "Bene! Se ti serve altro, scrivimi la tua domanda.",
        "menu_person": "Parla con una persona",
        "menu_start_over": "Ricomincia",
        "quick_person": "Un operatore",
        "person_request": "Vorrei parlare con una persona",
        "link_only": "Non riesco ad aprire i link: scrivimi a parole che cosa ti serve e ti rispondo subito.",
        "stale_button": "Questo pulsante non è più attivo. Scrivimi la tua domanda a parole, "
        "oppure tocca «Un operatore» per parlare con una persona.",
        "get_started": "Inizia",  # how Messenger labels the Get Started button in this language
    },
    "en": {
        "clarify": "I'm not sure I understood. Did you mean one of these?",
        "clarify_one": "I'm not sure I understood. Did you mean this?",
        "clarify_hint": "Reply with the number, rephrase your question, or type “agent” to talk to a person.",
        "handoff": "I'm putting you in touch with a person from our customer service.",
        "handoff_low_confidence": "I couldn't find a reliable answer to your question: "
        "I'm putting you in touch with a person from our customer service.",
        "handoff_requested": "Of course, I'm putting you in touch with a person from our customer service.",
        "handoff_repeated_miss": "Sorry, I can't help with this: "
        "I'm putting you in touch with a person from our customer service.",
        "none_fit": "Sorry, then I didn't quite understand: could you put it in other words? "
        "If you'd rather, type “agent” and I'll pass you to a person.",
        "offer_person": "If you still need help, type “agent” and I'll pass you to a person.",
        "helpful": "Was this answer helpful?",
        "follow_ups": "You might also want to know:",
        "handoff_eta": "Expected wait: about {minutes} minutes.",
        "handoff_open": "An agent will reply here: the expected wait is about {minutes} minutes.",
        "handoff_open_one": "An agent will reply here: the expected wait is about a minute.",
        "handoff_queue_one": "One other person is waiting before you.",
        "handoff_queue": "{ahead} people are waiting before you.",
        "handoff_nobody_online": "No agent is online right now: we will reply as soon as we can.",
        "handoff_nobody_online_email": "No agent is online right now: if you'd rather not wait, leave "
        "your e-mail address and we will reply there.",
        "agent_named_joined": "{name} from customer service is with you now.",
        "contact_kept": "Thank you: if you close the chat, we will reply to {email}.",
        "customer_left": "The customer closed the conversation.",
        "handoff_closed_email": "Our customer service is closed now and opens again on {when}. Type "
        "your e-mail address here and we will answer by e-mail by then.",
        "handoff_closed_here": "Our customer service is closed now: it opens again on {when} and we "
        "will answer you here.",
        "handoff_closed_email_known": "Our customer service is closed now and opens again on {when}. "
        "We will answer you by e-mail at {email} by then.",
        "handoff_soon": "as soon as possible",
        "handoff_unhelpful": "Sorry that answer did not help: I'm passing you to a person.",
        "agent_joined": "An agent has taken over the conversation.",
        "back_to_bot": "The agent has closed the conversation: the assistant will answer you again "
        "from now on.",
        "greeting": "Hi! I'm the customer service assistant: type your question. "
        "If you need a person, type “agent”.",
        "page_greeting": "Hi {{user_first_name}}! Send us your question: our assistant answers right "
        "away, and a person when needed.",
        "text_only": "For now I can only read text messages: please type your question in words.",
        "start_over": "Let's start over: type your question.",
        "feedback_thanks": "Thanks for your feedback!",
        "smalltalk_greeting": "Hi! I'm the customer service assistant: type your question. "
        "If you need a person, type “agent”.",
        "smalltalk_thanks": "You're welcome! If you have another question, just type it.",
        "smalltalk_goodbye": "Thank you, have a nice day! Write again whenever you need.",
        "smalltalk_ack": "Good! If you need anything else, type your question.",
        "menu_person": "Talk to a person",
        "menu_start_over": "Start over",
        "quick_person": "Talk to a person",
        "person_request": "I would like to talk to a person",
        "link_only": "I can't open links: tell me in words what you need and I'll answer right away.",
        "stale_button": "That button is no longer active. Type your question in words, "
        "or tap “Talk to a person” to reach someone.",
        "get_started": "Get Started",
    },
}


def message(key: str, lang: str) -> str:
    """The message `key` in `lang`, falling back to Italian for a language we do not speak."""
    return MESSAGES.get(lang, MESSAGES["it"])[key]
