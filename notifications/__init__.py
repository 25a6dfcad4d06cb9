"""Templates, outbox, providers (Twilio SMS, SMTP e-mail, console) and the dispatcher."""
