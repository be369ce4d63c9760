package io.vmsched.cli;

/**
 * Checks of command-line values (ranges, and a directory that is a file): each failure is one line
 * naming the flag, what it allows and the value given, which {@link VmschedCommand} prints without a
 * stack trace.
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

    /**
     * @param flag  the flag's name.
     * @param value the value given.
     * @param min   the smallest allowed.
     * @param max   the largest allowed.
     * @throws IllegalArgumentException if {@code value} is NaN or outside [min, max].
     */
    static void within(final String flag, final double value, final double min, final double max)
    {
        if (!(value >= min && value <= max)) // NaN fails both comparisons
        {
            throw new IllegalArgumentException(flag + " must be a number in [" + number(min) + ", " + number(max) +
                "], got " + value);
        }
    }

    /**
     * @param flag  the flag's name.
     * @param value the value given.
     * @param min   the smallest allowed.
     * @throws IllegalArgumentException if {@code value} is NaN, infinite or below {@code min}.
     */
    static void atLeast(final String flag, final double value, final double min)
    {
        if (!(value >= min) || Double.isInfinite(value))
        {
            throw new IllegalArgumentException(flag + " must be a finite number >= " + number(min) + ", got " + value);
        }
    }

    /**
     * @param flag the flag's name, e.g. {@code --data}.
     * @param dir  a directory to use or make.
     * @throws IllegalArgumentException if something other than a directory is there.
     */
    static void directoryOrAbsent(final String flag, final java.nio.file.Path dir)
    {
        if (java.nio.file.Files.exists(dir) && !java.nio.file.Files.isDirectory(dir))
        {
            throw new IllegalArgumentException(flag + " " + dir + " is a file, not a directory");
        }
    }

    private static String number(final double value)
    {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long)value) : Double.toString(value);
    }
}
