package io.vmsched.sim;

import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadWeights;

/**
 * What the simulator runs: each VM's raw usage at each step (CPU in reference cores, I/O in bytes
 * per second, memory in bytes), the weights that turn usage into load, and a host capacity that fits
 * the workload. Arrays are indexed {@code [vm][step]}; a workload with one step is static.
 * <p>
 * Immutable once built.
 */
public final class Workload
{
    private final String name;
    private final float[][] cpu;
    private final float[][] io;
    private final float[][] memory;
    private final int steps;
    private final LoadWeights weights;
    private final HostCapacity hostCapacity;
    private final boolean[][] filled;

    /**
     * A workload every sample of which was measured.
     *
     * @param name         where it came from, for reports.
     * @param cpu          reference cores busy, per VM per step.
     * @param io           I/O bytes per second, per VM per step (or null: none).
     * @param memory       memory bytes, per VM per step (or null: none).
     * @param weights      weights of the load model.
     * @param hostCapacity the capacity of one (reference) host.
     */
    public Workload(final String name, final float[][] cpu, final float[][] io, final float[][] memory,
        final LoadWeights weights, final HostCapacity hostCapacity)
    {
        this(name, cpu, io, memory, weights, hostCapacity, null);
    }

    /**
     * @param name         where it came from, for reports.
     * @param cpu          reference cores busy, per VM per step.
     * @param io           I/O bytes per second, per VM per step (or null: none).
     * @param memory       memory bytes, per VM per step (or null: none).
     * @param weights      weights of the load model.
     * @param hostCapacity the capacity of one (reference) host.
     * @param filled       per VM per step, true where the trace had no sample and the reader filled
     *                     one in (a gap in a trace's timestamps); null if none was.
     */
    public Workload(final String name, final float[][] cpu, final float[][] io, final float[][] memory,
        final LoadWeights weights, final HostCapacity hostCapacity, final boolean[][] filled)
    {
        if (cpu.length == 0)
        {
            throw new IllegalArgumentException(name + ": no VMs");
        }
        int steps = Integer.MAX_VALUE;
        for (final float[] series : cpu)
        {
            steps = Math.min(steps, series.length);
        }
        if (steps == 0)
        {
            throw new IllegalArgumentException(name + ": a VM has no samples");
        }
        this.name = name;
        this.cpu = cpu;
        this.io = io;
        this.memory = memory;
        this.steps = steps;
        this.weights = weights;
        this.hostCapacity = hostCapacity;
        this.filled = filled;
    }

    /** @return where it came from. */
    public String name()
    {
        return name;
    }

    /** @return number of VMs. */
    public int vms()
    {
        return cpu.length;
    }

    /** @return samples per VM (the shortest VM's, if they differ); 1 for a static workload. */
    public int steps()
    {
        return steps;
    }

    /** @return the load model's weights. */
    public LoadWeights weights()
    {
        return weights;
    }

    /** @return the capacity of a reference host. */
    public HostCapacity hostCapacity()
    {
        return hostCapacity;
    }

    /**
     * @param vm   the VM.
     * @param step the step (taken modulo {@link #steps()}).
     * @return reference cores busy.
     */
    public double cpu(final int vm, final int step)
    {
        return cpu[vm][step % steps];
    }

    /**
     * @param vm   the VM.
     * @param step the step (taken modulo {@link #steps()}).
     * @return I/O bytes per second.
     */
    public double io(final int vm, final int step)
    {
        return io == null ? 0 : io[vm][step % steps];
    }

    /**
     * @param vm   the VM.
     * @param step the step (taken modulo {@link #steps()}).
     * @return memory bytes.
     */
    public double memory(final int vm, final int step)
    {
        return memory == null ? 0 : memory[vm][step % steps];
    }

    /**
     * @param vm   the VM.
     * @param step the step (taken modulo {@link #steps()}).
     * @return true if the trace had no sample at this step and the reader filled one in (the last
     * one before it): a forecast evaluation does not score it.
     */
    public boolean filled(final int vm, final int step)
    {
        return filled != null && filled[vm][step % steps];
    }
}
