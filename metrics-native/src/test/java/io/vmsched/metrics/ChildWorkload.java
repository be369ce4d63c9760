package io.vmsched.metrics;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The child process of the sampler tests: on "GO" it burns a given amount of CPU, writes a file
 * (synced, so the bytes reach storage) and holds touched memory, then prints "DONE" and waits to be
 * killed. Arguments: file, CPU ms, bytes to write, bytes to hold.
 */
public final class ChildWorkload
{
    private ChildWorkload()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Path file = Path.of(args[0]);
        final long cpuNanos = Long.parseLong(args[1]) * 1_000_000L;
        final int write = Integer.parseInt(args[2]);
        final int hold = Integer.parseInt(args[3]);
        final BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        System.out.println("READY");
        System.out.flush();
        if (!"GO".equals(in.readLine()))
        {
            return;
        }
        final long start = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        long x = 1;
        while (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - start < cpuNanos)
        {
            for (int i = 0; i < 10_000; i++)
            {
                x = x * 6364136223846793005L + 1442695040888963407L;
            }
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE))
        {
            final ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
            for (int written = 0; written < write; written += chunk.capacity())
            {
                chunk.clear();
                channel.write(chunk);
            }
            channel.force(true);
        }
        final ByteBuffer held = ByteBuffer.allocateDirect(hold);
        for (int i = 0; i < hold; i += 4096)
        {
            held.put(i, (byte)1); // touch every page so it is resident
        }
        System.out.println("DONE " + (x & 1));
        System.out.flush();
        in.readLine(); // wait to be killed
        System.out.println(held.get(0));
    }
}
