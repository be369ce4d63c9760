package io.vmsched.aeron;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free UDP ports on the loopback address for the processes a test, a demo or a benchmark starts. They are drawn
 * below the kernel's ephemeral range ({@code /proc/sys/net/ipv4/ip_local_port_range}): a port is free when it is
 * chosen and bound by a child a moment later, and a port of the ephemeral range can be given in between to any
 * socket bound to port 0 (every Aeron publication's), which a port below it never is.
 * <p>
 * Threadsafe (no state).
 */
public final class LoopbackPorts
{
    /** The lowest port drawn. */
    static final int LOWEST = 10_000;
    private static final Path EPHEMERAL = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    private static final int DEFAULT_EPHEMERAL_START = 32_768;

    private LoopbackPorts()
    {
    }

    /**
     * @param count how many consecutive UDP ports are needed, at least 1.
     * @return the first of {@code count} consecutive UDP ports free on the loopback address now, below the
     * ephemeral range.
     * @throws IllegalStateException if none are found in 1,000 tries.
     */
    public static int freeUdpPorts(final int count)
    {
        if (count < 1)
        {
            throw new IllegalArgumentException("count must be at least 1, got " + count);
        }
        final int end = ephemeralStart();
        if (end - count <= LOWEST)
        {
            throw new IllegalStateException("no room for " + count + " UDP ports between " + LOWEST +
                " and the ephemeral range's start " + end);
        }
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            final int base = ThreadLocalRandom.current().nextInt(LOWEST, end - count);
            final List<DatagramSocket> held = new ArrayList<>();
            try
            {
                for (int p = base; p < base + count; p++)
                {
                    held.add(new DatagramSocket(new InetSocketAddress(loopback, p)));
                }
                return base;
            }
            catch (final IOException ex)
            {
                // taken: try another range
            }
            finally
            {
                held.forEach(DatagramSocket::close);
            }
        }
        throw new IllegalStateException("no " + count + " consecutive free UDP ports found on the loopback address");
    }

    /** @return a UDP port free on the loopback address now, below the ephemeral range. */
    public static int freeUdpPort()
    {
        return freeUdpPorts(1);
    }

    /** @return the first port of the kernel's ephemeral range (32,768 where it cannot be read). */
    static int ephemeralStart()
    {
        try
        {
            // read as lines: Files.readString gets only the first byte of this /proc/sys file (its size says 0)
            final String[] range = Files.readAllLines(EPHEMERAL, StandardCharsets.US_ASCII).get(0).trim().split("\\s+");
            return Integer.parseInt(range[0]);
        }
        catch (final IOException | RuntimeException ex)
        {
            return DEFAULT_EPHEMERAL_START;
        }
    }
}
