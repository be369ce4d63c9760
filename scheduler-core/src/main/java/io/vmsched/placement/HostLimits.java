package io.vmsched.placement;

import io.vmsched.load.HostCapacity;

/**
 * A host's capacity rules: a ceiling on each resource's load (the share of its capacity its VMs may
 * use), the most VMs it may run, and room kept free (reserved for the host itself). A VM is placed on
 * a host only if, with it, {@code used + reserved <= ceiling x capacity} holds for every resource and
 * the VM count stays within the maximum. Checked wherever a placement is decided: admission, explicit
 * migration, the balancer's exchange, repair, and by the target when a VM arrives.
 * <p>
 * Immutable.
 *
 * @param cpuCeiling       share of CPU capacity VMs may use, in (0, 1].
 * @param ioCeiling        share of I/O bandwidth, in (0, 1].
 * @param memoryCeiling    share of memory, in (0, 1].
 * @param maxVms           the most VMs the host runs (0: no limit beyond its schedule).
 * @param reservedCores    reference cores kept free.
 * @param reservedIo       I/O bytes per second kept free.
 * @param reservedMemory   memory bytes kept free.
 */
public record HostLimits(double cpuCeiling, double ioCeiling, double memoryCeiling, int maxVms, double reservedCores,
    double reservedIo, double reservedMemory)
{
    /** No ceilings, no maximum, nothing reserved. */
    public static final HostLimits NONE = new HostLimits(1, 1, 1, 0, 0, 0, 0);

    /** What {@link #refuses} names: the CPU ceiling. */
    public static final String CPU = "cpu ceiling";
    /** What {@link #refuses} names: the I/O ceiling. */
    public static final String IO = "io ceiling";
    /** What {@link #refuses} names: the memory ceiling. */
    public static final String MEMORY = "memory ceiling";
    /** What {@link #refuses} names: the VM count. */
    public static final String VMS = "max vms";

    /**
     * @throws IllegalArgumentException naming the first bad value.
     */
    public HostLimits
    {
        ceiling("cpu", cpuCeiling);
        ceiling("io", ioCeiling);
        ceiling("memory", memoryCeiling);
        if (maxVms < 0)
        {
            throw new IllegalArgumentException("max vms must be 0 (no limit) or more, got " + maxVms);
        }
        if (!(reservedCores >= 0 && reservedIo >= 0 && reservedMemory >= 0) ||
            !Double.isFinite(reservedCores + reservedIo + reservedMemory))
        {
            throw new IllegalArgumentException("reserved room must be finite and 0 or more");
        }
    }

    private static void ceiling(final String resource, final double value)
    {
        if (!(value > 0 && value <= 1))
        {
            throw new IllegalArgumentException(resource + " ceiling must be in (0, 1], got " + value);
        }
    }

    /** @return whether these limits refuse nothing. */
    public boolean none()
    {
        return cpuCeiling == 1 && ioCeiling == 1 && memoryCeiling == 1 && maxVms == 0 && reservedCores == 0 &&
            reservedIo == 0 && reservedMemory == 0;
    }

    /**
     * Whether a VM may be added to a host.
     *
     * @param capacity the host's capacity.
     * @param usedCpu  reference cores its VMs use now.
     * @param usedIo   their I/O rate.
     * @param usedMem  their memory.
     * @param vms      VMs on it now.
     * @param cpu      the VM's cores.
     * @param io       its I/O rate.
     * @param memory   its memory.
     * @return null if it fits, else which limit it breaks ({@link #CPU}, {@link #IO}, {@link #MEMORY}, {@link #VMS}).
     */
    public String refuses(final HostCapacity capacity, final double usedCpu, final double usedIo, final double usedMem,
        final int vms, final double cpu, final double io, final double memory)
    {
        if (maxVms > 0 && vms + 1 > maxVms)
        {
            return VMS;
        }
        if (usedCpu + cpu + reservedCores > cpuCeiling * capacity.cpuCapacity() + 1e-9 && cpu > 0)
        {
            return CPU;
        }
        if (usedIo + io + reservedIo > ioCeiling * capacity.ioBytesPerSecond() + 1e-9 && io > 0)
        {
            return IO;
        }
        if (usedMem + memory + reservedMemory > memoryCeiling * capacity.memoryBytes() + 1e-9 && memory > 0)
        {
            return MEMORY;
        }
        return null;
    }
}
