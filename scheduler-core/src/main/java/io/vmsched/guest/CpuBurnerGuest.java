package io.vmsched.guest;

import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;

import java.nio.ByteBuffer;

/**
 * A guest that burns CPU for a programmable fraction of its fair share of each turn (its duty
 * cycle) and returns early for the rest, like a VM that is busy that fraction of the time. At 100 %
 * it uses its whole budget, credit included.
 * <p>
 * Threading: {@link #dutyCycle(double)} may be called from any thread; the new value applies from
 * the next slice.
 */
public final class CpuBurnerGuest implements Guest
{
    private static final int SNAPSHOT_LENGTH = 4 + 8 + 8;
    private static final int SNAPSHOT_MAGIC = 0x43505542; // 'CPUB'

    private volatile double dutyCycle;
    private long work;
    private long sink;

    /**
     * @param dutyCycle fraction of each slice's budget to burn, in [0, 1].
     */
    public CpuBurnerGuest(final double dutyCycle)
    {
        dutyCycle(dutyCycle);
    }

    /**
     * Set the fraction of each slice's budget to burn.
     *
     * @param dutyCycle in [0, 1].
     */
    public void dutyCycle(final double dutyCycle)
    {
        if (!(dutyCycle >= 0.0 && dutyCycle <= 1.0))
        {
            throw new IllegalArgumentException("duty cycle must be in [0, 1], got " + dutyCycle);
        }
        this.dutyCycle = dutyCycle;
    }

    /** @return the current duty cycle. */
    public double dutyCycle()
    {
        return dutyCycle;
    }

    /** @return units of work done so far (carried across snapshot and restore). */
    public long work()
    {
        return work;
    }

    @Override
    public void runSlice(final SliceContext context)
    {
        final double duty = dutyCycle;
        if (duty <= 0.0)
        {
            return;
        }
        final long until = duty >= 1.0 ? context.deadlineNanos() :
            Math.min(context.deadlineNanos(), context.deadlineNanos() - context.budgetNanos() +
            (long)(duty * context.shareNanos()));
        long x = sink;
        long units = 0;
        do
        {
            for (int i = 0; i < 64; i++)
            {
                x = x * 6364136223846793005L + 1442695040888963407L; // an LCG step the JIT cannot drop
            }
            units++;
        }
        while (System.nanoTime() - until < 0);
        sink = x;
        work += units;
    }

    @Override
    public byte[] snapshot()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(SNAPSHOT_LENGTH);
        buffer.putInt(SNAPSHOT_MAGIC).putLong(Double.doubleToLongBits(dutyCycle)).putLong(work);
        return buffer.array();
    }

    @Override
    public void restore(final byte[] state)
    {
        final ByteBuffer buffer = ByteBuffer.wrap(state);
        if (state.length != SNAPSHOT_LENGTH || buffer.getInt() != SNAPSHOT_MAGIC)
        {
            throw new IllegalArgumentException("not a CPU burner snapshot (" + state.length + " bytes)");
        }
        dutyCycle(Double.longBitsToDouble(buffer.getLong()));
        work = buffer.getLong();
    }

    @Override
    public String toString()
    {
        return "CpuBurnerGuest{dutyCycle=" + dutyCycle + ", work=" + work + '}';
    }
}
