package io.vmsched.load;

/**
 * How much each kind of usage counts in a VM's load (seed VM claims 9-12): a weighted combination
 * of CPU, I/O and memory, each normalised by the host's capacity for it.
 * <p>
 * Immutable and threadsafe.
 */
public final class LoadWeights
{
    /** CPU-dominated defaults: 0.6 CPU, 0.2 I/O, 0.2 memory. */
    public static final LoadWeights DEFAULT = new LoadWeights(0.6, 0.2, 0.2);
    /** CPU only, for traces that only measure CPU. */
    public static final LoadWeights CPU_ONLY = new LoadWeights(1.0, 0.0, 0.0);

    private final double cpu;
    private final double io;
    private final double memory;

    /**
     * @param cpu    weight of CPU, at least 0.
     * @param io     weight of I/O, at least 0.
     * @param memory weight of memory, at least 0.
     * @throws IllegalArgumentException if a weight is negative or not a number, or all are 0.
     */
    public LoadWeights(final double cpu, final double io, final double memory)
    {
        if (!(cpu >= 0) || !(io >= 0) || !(memory >= 0) || Double.isInfinite(cpu + io + memory))
        {
            throw new IllegalArgumentException("load weights must be finite and >= 0, got cpu=" + cpu + " io=" + io +
                " memory=" + memory);
        }
        if (cpu + io + memory == 0)
        {
            throw new IllegalArgumentException("at least one load weight must be above 0");
        }
        this.cpu = cpu;
        this.io = io;
        this.memory = memory;
    }

    /** @return weight of CPU. */
    public double cpu()
    {
        return cpu;
    }

    /** @return weight of I/O. */
    public double io()
    {
        return io;
    }

    /** @return weight of memory. */
    public double memory()
    {
        return memory;
    }

    @Override
    public String toString()
    {
        return "cpu=" + cpu + " io=" + io + " memory=" + memory;
    }
}
