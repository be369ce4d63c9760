package io.vmsched.aeron;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** Loopback ports, inboxes, a log that tests can read, and waiting with a deadline. */
final class TestSupport
{
    static final String LOOPBACK = "127.0.0.1";

    private TestSupport()
    {
    }

    /** @return a UDP port on the loopback interface that was free a moment ago, below the ephemeral range. */
    static int freeUdpPort()
    {
        return LoopbackPorts.freeUdpPort();
    }

    static ManyToOneRingBuffer inbox(final int bytes)
    {
        return new ManyToOneRingBuffer(new UnsafeBuffer(ByteBuffer.allocateDirect(bytes + RingBufferDescriptor.TRAILER_LENGTH)));
    }

    static byte[] secret(final int seed)
    {
        final byte[] s = new byte[32];
        new java.util.Random(seed).nextBytes(s);
        return s;
    }

    /**
     * Run {@code step} until {@code done} holds, failing after {@code timeoutMs}.
     */
    static void await(final String what, final long timeoutMs, final Runnable step, final BooleanSupplier done)
    {
        final long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!done.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out after " + timeoutMs + " ms waiting for " + what);
            }
            step.run();
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** A log that keeps its lines (and echoes them, so a failing run shows them). */
    static final class Log implements java.util.function.Consumer<String>
    {
        final List<String> lines = new CopyOnWriteArrayList<>();
        private final String name;

        Log(final String name)
        {
            this.name = name;
        }

        @Override
        public void accept(final String line)
        {
            lines.add(line);
            System.out.println("[" + name + "] " + line);
        }

        boolean contains(final String fragment)
        {
            return lines.stream().anyMatch(l -> l.contains(fragment));
        }
    }
}
