package io.vmsched.guest;

import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;

import java.nio.ByteBuffer;

/**
 * A guest that wants a fixed amount of CPU: {@code rate} cores, whatever else the host runs. It burns
 * while it is behind its rate and says it is idle ({@link SliceContext#idle()}) while ahead, so its
 * demand is an absolute figure the balancer can move between hosts (unlike {@link CpuBurnerGuest},
 * whose use follows the share it is given). Backlog is capped at 20 ms, so after a stop (a migration,
 * a suspend) it does not burst to catch up.
 * <p>
 * Threading: slices run one at a time (see {@link Guest}); {@link #rate(double)} may be called from
 * any thread.
 */
public final class PacedBurnerGuest implements Guest
{
    /** The kind under which hosts recreate it. */
    public static final String KIND = "paced-burner";
    private static final int SNAPSHOT_MAGIC = 0x50414345; // "PACE"
    private static final int SNAPSHOT_LENGTH = 4 + 8 + 8 + 8 + 8 + 8;
    private static final long MAX_BACKLOG_NANOS = 20_000_000;
    // burns in bursts of at least 200 us: between them the worker backs off instead of spinning
    // through slices whose cost would be charged to the guests
    private static final long MIN_BURST_NANOS = 200_000;

    private volatile double rate;
    private double amplitude;
    private double periodMs = 1;
    private double phase;
    private long burnedNanos;
    private long lastNanos;
    private double allowanceNanos;
    private long sink;

    /** An idle guest, to restore a snapshot into. */
    public PacedBurnerGuest()
    {
        this(0);
    }

    /**
     * @param rate cores of CPU it wants, in [0, 1].
     */
    public PacedBurnerGuest(final double rate)
    {
        rate(rate);
    }

    /**
     * A guest whose demand swings as a wave in wall-clock time, the same on every host it runs on:
     * {@code rate × (1 + amplitude × sin(2π t / period + phase))}.
     *
     * @param rate      mean cores of CPU it wants, in [0, 1].
     * @param amplitude fraction of the rate it swings by, in [0, 1].
     * @param periodMs  the wave's period, ms, positive.
     * @param phase     the wave's phase, radians.
     */
    public PacedBurnerGuest(final double rate, final double amplitude, final double periodMs, final double phase)
    {
        rate(rate);
        if (!(amplitude >= 0 && amplitude <= 1) || !(periodMs > 0) || !Double.isFinite(phase))
        {
            throw new IllegalArgumentException("wave needs amplitude in [0, 1], a positive period and a finite phase");
        }
        this.amplitude = amplitude;
        this.periodMs = periodMs;
        this.phase = phase;
    }

    /**
     * @param rate cores of CPU it wants from now on, in [0, 1].
     */
    public void rate(final double rate)
    {
        if (!(rate >= 0.0 && rate <= 1.0))
        {
            throw new IllegalArgumentException("rate must be in [0, 1] cores, got " + rate);
        }
        this.rate = rate;
    }

    /** @return the cores it wants. */
    public double rate()
    {
        return rate;
    }

    /**
     * @param epochMs wall-clock time.
     * @return the cores it wants at that time.
     */
    public double rateAt(final long epochMs)
    {
        return amplitude == 0 ? rate : rate * (1 + amplitude * Math.sin(2 * Math.PI * epochMs / periodMs + phase));
    }

    /** @return CPU ns it has burned in all its life (carried across snapshot and restore). */
    public long burnedNanos()
    {
        return burnedNanos;
    }

    @Override
    public void runSlice(final SliceContext context)
    {
        final long now = System.nanoTime();
        if (lastNanos != 0)
        {
            final double wanted = amplitude == 0 ? rate : rateAt(System.currentTimeMillis());
            allowanceNanos = Math.min(MAX_BACKLOG_NANOS, allowanceNanos + wanted * (now - lastNanos));
        }
        lastNanos = now;
        if (allowanceNanos < MIN_BURST_NANOS)
        {
            context.idle();
            return;
        }
        final long until = Math.min(context.deadlineNanos(), now + (long)allowanceNanos);
        long x = sink;
        long t;
        do
        {
            for (int i = 0; i < 64; i++)
            {
                x = x * 6364136223846793005L + 1442695040888963407L; // an LCG step the JIT cannot drop
            }
            t = System.nanoTime();
        }
        while (t - until < 0);
        sink = x;
        allowanceNanos -= t - now;
        burnedNanos += t - now;
        lastNanos = t;
    }

    @Override
    public byte[] snapshot()
    {
        return ByteBuffer.allocate(SNAPSHOT_LENGTH).putInt(SNAPSHOT_MAGIC).putDouble(rate).putLong(burnedNanos)
            .putDouble(amplitude).putDouble(periodMs).putDouble(phase).array();
    }

    @Override
    public void restore(final byte[] state)
    {
        final ByteBuffer buffer = ByteBuffer.wrap(state);
        if (state.length != SNAPSHOT_LENGTH || buffer.getInt() != SNAPSHOT_MAGIC)
        {
            throw new IllegalArgumentException("not a paced burner snapshot (" + state.length + " bytes)");
        }
        rate(buffer.getDouble());
        burnedNanos = buffer.getLong();
        amplitude = buffer.getDouble();
        periodMs = buffer.getDouble();
        phase = buffer.getDouble();
        lastNanos = 0;
        allowanceNanos = 0;
    }

    @Override
    public String kind()
    {
        return KIND;
    }

    @Override
    public String toString()
    {
        return "PacedBurnerGuest{rate=" + rate + ", burnedNanos=" + burnedNanos + '}';
    }
}
