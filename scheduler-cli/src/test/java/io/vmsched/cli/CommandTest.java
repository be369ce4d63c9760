package io.vmsched.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * Base of the command tests: runs {@code vmsched} in this JVM as a user would, keeping what the last
 * run printed on stdout ({@link #out}) and stderr ({@link #err}).
 */
abstract class CommandTest
{
    /** What the last run printed on stdout. */
    protected final StringWriter out = new StringWriter();
    /** What the last run printed on stderr. */
    protected final StringWriter err = new StringWriter();

    /**
     * @param args the command line.
     * @return its exit status.
     */
    protected int run(final String... args)
    {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        return VmschedCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }
}
