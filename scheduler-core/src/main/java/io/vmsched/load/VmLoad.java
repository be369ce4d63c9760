package io.vmsched.load;

/**
 * One VM's load factors in either of its two modes (seed VM claims 6, 7): <em>actual</em>, its
 * measured usage smoothed per resource over a window so a spike does not trigger a migration, or
 * <em>target</em>, a usage programmed for it (an operator's reservation, say) that the balancer uses
 * instead of what was measured. Measurements keep being smoothed while a target is set, so clearing
 * the target falls back to an up-to-date actual figure.
 * <p>
 * The factors are raw usage, not load: the same factors give a different load on a faster or larger
 * host ({@link LoadModel#load(LoadFactors, HostCapacity)}), which is what a source sends its peer
 * (claims 8, 20, 31).
 * <p>
 * <b>Note:</b> Not threadsafe: owned by one thread (the host agent).
 */
public final class VmLoad
{
    /** Which figure the balancer uses. */
    public enum Mode
    {
        /** Measured usage, smoothed. */
        ACTUAL,
        /** The programmed usage. */
        TARGET
    }

    private final LoadModel.Smoother cpu;
    private final LoadModel.Smoother io;
    private final LoadModel.Smoother memory;
    private final LoadFactors target = new LoadFactors();
    private final LoadFactors actual = new LoadFactors();
    private Mode mode = Mode.ACTUAL;

    /**
     * @param smoothingWindow samples the actual figure is averaged over, at least 1 (1 = the last sample).
     */
    public VmLoad(final double smoothingWindow)
    {
        cpu = new LoadModel.Smoother(smoothingWindow);
        io = new LoadModel.Smoother(smoothingWindow);
        memory = new LoadModel.Smoother(smoothingWindow);
    }

    /**
     * Add one measurement of the VM's usage. Allocates nothing.
     *
     * @param cpuCores         reference cores busy over the sample.
     * @param ioBytesPerSecond I/O rate over the sample.
     * @param memoryBytes      memory held.
     * @return this.
     */
    public VmLoad measure(final double cpuCores, final double ioBytesPerSecond, final double memoryBytes)
    {
        requireUsage(cpuCores, ioBytesPerSecond, memoryBytes);
        actual.set(cpu.update(cpuCores), io.update(ioBytesPerSecond), memory.update(memoryBytes));
        return this;
    }

    /**
     * Program a target usage: from now on {@link #factors()} returns it, whatever is measured.
     *
     * @param cpuCores         reference cores.
     * @param ioBytesPerSecond I/O rate.
     * @param memoryBytes      memory.
     * @return this.
     * @throws IllegalArgumentException if a figure is negative or not finite.
     */
    public VmLoad program(final double cpuCores, final double ioBytesPerSecond, final double memoryBytes)
    {
        requireUsage(cpuCores, ioBytesPerSecond, memoryBytes);
        target.set(cpuCores, ioBytesPerSecond, memoryBytes);
        mode = Mode.TARGET;
        return this;
    }

    /**
     * Drop the programmed target: back to the actual (measured, smoothed) figure.
     *
     * @return this.
     */
    public VmLoad clearTarget()
    {
        mode = Mode.ACTUAL;
        return this;
    }

    /** @return the mode in force. */
    public Mode mode()
    {
        return mode;
    }

    /**
     * The factors the balancer uses: the target if one is programmed, otherwise the smoothed
     * measurement (zeros before the first). The returned object is this VM's own and changes with
     * the next call to {@link #measure} or {@link #program}; copy it to keep it.
     *
     * @return the factors in force.
     */
    public LoadFactors factors()
    {
        return mode == Mode.TARGET ? target : actual;
    }

    /** @return the smoothed measurement, whatever the mode. */
    public LoadFactors actual()
    {
        return actual;
    }

    private static void requireUsage(final double cpuCores, final double io, final double memory)
    {
        if (!(cpuCores >= 0 && io >= 0 && memory >= 0) ||
            !Double.isFinite(cpuCores) || !Double.isFinite(io) || !Double.isFinite(memory))
        {
            throw new IllegalArgumentException("usage must be finite and non-negative: cpu " + cpuCores +
                ", io " + io + ", memory " + memory);
        }
    }
}
