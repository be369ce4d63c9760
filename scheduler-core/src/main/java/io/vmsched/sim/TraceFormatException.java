package io.vmsched.sim;

import java.nio.file.Path;

/**
 * A trace file that cannot be read: the message names the file and line, and what is wrong.
 */
public final class TraceFormatException extends IllegalArgumentException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param file    the file.
     * @param line    the 1-based line, or 0 for the whole file.
     * @param problem what is wrong.
     */
    public TraceFormatException(final Path file, final int line, final String problem)
    {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem);
    }
}
