package io.vmsched.dispatch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What Linux lets a thread set on itself through /proc, without privileges. Elsewhere each call does
 * nothing and says so. Each method acts on the calling thread only.
 */
final class LinuxThread
{
    private LinuxThread()
    {
    }

    /** @return the calling thread's OS id (its TID), or 0 where there is none to give (not Linux). */
    static long id()
    {
        try
        {
            // "PID/task/TID"
            final String self = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString();
            return Long.parseLong(self.substring(self.lastIndexOf('/') + 1));
        }
        catch (final IOException | RuntimeException ex)
        {
            return 0; // not Linux
        }
    }

    /**
     * Sets the calling thread's timer slack: how late the kernel may fire its timed waits (a park) to group
     * them with others; 50 µs by default, which every park of a thread on the message path pays again.
     * A thread may set its own without privileges (/proc/TID/timerslack_ns, Linux 4.6+).
     *
     * @param ns the slack, ns, at least 1.
     * @return whether it was set (false: not Linux, an older kernel, or refused).
     */
    static boolean timerSlack(final long ns)
    {
        final long tid = id();
        if (tid == 0)
        {
            return false;
        }
        try
        {
            Files.writeString(Path.of("/proc/" + tid + "/timerslack_ns"), Long.toString(ns));
            return true;
        }
        catch (final IOException | RuntimeException ex)
        {
            return false;
        }
    }

    /** @return the calling thread's timer slack, ns, or -1 where it cannot be read. */
    static long timerSlack()
    {
        final long tid = id();
        if (tid == 0)
        {
            return -1;
        }
        try
        {
            // readAllLines: Files.readString of a /proc file may return only its first byte
            return Long.parseLong(Files.readAllLines(Path.of("/proc/" + tid + "/timerslack_ns")).get(0).trim());
        }
        catch (final IOException | RuntimeException ex)
        {
            return -1;
        }
    }
}
