package idex.exchange.identity;

import idex.exchange.endpoints.DeclaredIdentifier;
import idex.exchange.endpoints.Registration;

import java.util.Locale;

/**
 * The form in which the identity store keeps an identifier's values, by the type its endpoint declared: an email
 * trimmed and lower-cased, a phone in E.164, anything else as sent (trimmed). Applied on the way in (events,
 * identity imports) and to every lookup (graph translation, `GET`/`DELETE /v1/identity`), so that
 * ` Ivy.42@Example.COM` and `ivy.42@example.com` are one person, as they are one hash in an export.
 */
public enum ValueForm {
    AS_SENT, EMAIL, PHONE;

    /** The form of a declared type: "email" and "phone" in any case; every other type keeps values as sent. */
    public static ValueForm of(String declaredType) {
        if (declaredType == null) {
            return AS_SENT;
        }
        return switch (declaredType.trim().toLowerCase(Locale.ROOT)) {
            case "email" -> EMAIL;
            case "phone" -> PHONE;
            default -> AS_SENT;
        };
    }

    /** The form of an identifier as `registration` declares it; AS_SENT for a name it does not declare. */
    public static ValueForm of(Registration registration, String identifierName) {
        return registration.identifier(identifierName).map(DeclaredIdentifier::type).map(ValueForm::of).orElse(AS_SENT);
    }

    /** The stored form of a trimmed, non-empty value; null when it is no value of this type (a phone not in E.164). */
    public String normalize(String value) {
        return switch (this) {
            case AS_SENT -> value;
            case EMAIL -> ValueNormalizer.email(value);
            case PHONE -> ValueNormalizer.e164(value);
        };
    }

    /** Why `value` of identifier `name` was refused, for a message that says what to send instead. */
    public static String notAPhone(String name, String value) {
        String shown = value.length() > 40 ? value.substring(0, 40) + "…" : value;
        return "'" + shown + "' is not a phone number in E.164 (\"" + name + "\" is declared with type \"phone\"):"
                + " send '+', the country code and the number, 10 to 15 digits (spaces, '-', '.', '(' and ')' are"
                + " removed), e.g. +14155550123";
    }
}
