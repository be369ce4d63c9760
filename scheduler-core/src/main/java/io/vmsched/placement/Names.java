package io.vmsched.placement;

/** The one rule for names of services, rules and labels: what the text form can carry unquoted. */
final class Names
{
    private Names()
    {
    }

    /**
     * @param what  "service", "rule" or "label", for the message.
     * @param name  the name.
     * @throws IllegalArgumentException if it is empty, longer than 64 or has a character outside
     *                                  {@code [A-Za-z0-9._-]}.
     */
    static void check(final String what, final String name)
    {
        if (name == null || name.isEmpty() || name.length() > 64)
        {
            throw new IllegalArgumentException(what + " name must be 1 to 64 characters, got " +
                (name == null ? "none" : "'" + name + "'"));
        }
        for (int i = 0; i < name.length(); i++)
        {
            final char c = name.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'))
            {
                throw new IllegalArgumentException(what + " name '" + name + "' has '" + c +
                    "': only letters, digits, '.', '_' and '-' are allowed");
            }
        }
    }
}
