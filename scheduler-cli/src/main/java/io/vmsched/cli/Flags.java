package io.vmsched.cli;

/**
 * Range checks of command-line values: each failure is one line naming the flag, its range and the
 * value given, which {@link VmschedCommand} prints without a stack trace.
 */
final class Flags
{
    private Flags()
    {
    }

    /**
     * @param flag  the flag's name, e.g. {@code --hosts}.
     * @param value the value given.
     * @param min   the smallest allowed.
     * @param max   the largest allowed.
     * @throws IllegalArgumentException if {@code value} is outside [min, max].
     */
    static void within(final String flag, final long value, final long min, final long max)
    {
        if (value < min || value > max)
        {
            throw new IllegalArgumentException(flag + " must be in [" + min + ", " + max + "], got " + value);
        }
    }

    /**
     * @param flag  the flag's name.
     * @param value the value given.
     * @param min   the smallest allowed.
     * @param unit  what the value counts, with a leading space (e.g. {@code " second"}), or empty.
     * @throws IllegalArgumentException if {@code value} is below {@code min}.
     */
    static void atLeast(final String flag, final long value, final long min, final String unit)
    {
        if (value < min)
        {
            throw new IllegalArgumentException(flag + " must be at least " + min + unit + ", got " + value);
        }
    }
}
