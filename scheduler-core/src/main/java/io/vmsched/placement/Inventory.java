package io.vmsched.placement;

import io.vmsched.load.HostCapacity;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The inventory of resources (REL claim 9): per host and for the cluster, for each resource (CPU in
 * reference cores, I/O in bytes a second, memory in bytes), what is there, what is kept free, what the VMs
 * use as measured, what they require (what the load counts: a programmed target load where one is set, else
 * the smoothed measured usage), what is free under the host's ceiling, and the overcommit ratio; and the
 * headroom: how many more VMs of a given size fit without breaking a ceiling or the VM maximum (a closed
 * host, drained or removed, fits none). A snapshot: immutable.
 *
 * @param hosts   one row per host in the cluster (closed hosts included, with no headroom).
 * @param cluster the sums (the overcommit of the sums).
 */
public record Inventory(List<Row> hosts, Row cluster)
{
    /**
     * One resource of a host or of the cluster.
     *
     * @param capacity   what the host has.
     * @param reserved   what is kept free for the host itself.
     * @param used       what its VMs use, as measured.
     * @param required   what its VMs require (programmed where set, else smoothed measured).
     * @param free       what more VMs may require under the ceiling: ceiling x capacity - reserved - required, at least 0.
     * @param overcommit required / (capacity - reserved): above 1, more is asked than there is.
     */
    public record Resource(double capacity, double reserved, double used, double required, double free, double overcommit)
    {
    }

    /**
     * One host, or the cluster.
     *
     * @param host     the host, -1 for the cluster.
     * @param vms      its VMs.
     * @param cpu      CPU, reference cores.
     * @param io       I/O, bytes a second.
     * @param memory   memory, bytes.
     * @param headroom VMs of the size asked that still fit (-1 if none was asked: {@link #withHeadroom}).
     * @param closed   null if it takes VMs, else why not (draining, removed).
     */
    public record Row(int host, int vms, Resource cpu, Resource io, Resource memory, long headroom, String closed)
    {
        /** @return the row in one line, as a terminal shows it. */
        public String toText()
        {
            return String.format(Locale.ROOT, "%-8s %5d  cpu %7.2f/%7.2f cores (used %6.2f, free %7.2f, x%.2f)  " +
                "mem %7.2f/%7.2f GiB (free %7.2f)  io %7.1f/%7.1f MB/s%s%s",
                host < 0 ? "cluster" : "host " + host, vms, cpu.required, cpu.capacity, cpu.used, cpu.free, cpu.overcommit,
                memory.required / GIB, memory.capacity / GIB, memory.free / GIB, io.required / 1e6, io.capacity / 1e6,
                headroom < 0 ? "" : "  fits " + headroom + " more", closed == null ? "" : "  (" + closed + ")");
        }
    }

    private static final double GIB = 1024.0 * 1024 * 1024;

    /**
     * A host's row.
     *
     * @param host     the host.
     * @param capacity its capacity.
     * @param limits   its limits.
     * @param vms      its VMs.
     * @param used     CPU, I/O, memory as measured.
     * @param required CPU, I/O, memory as required.
     * @return the row (no headroom yet).
     */
    public static Row row(final int host, final HostCapacity capacity, final HostLimits limits, final int vms,
        final double[] used, final double[] required)
    {
        return new Row(host, vms,
            resource(capacity.cpuCapacity(), limits.reservedCores(), limits.cpuCeiling(), used[0], required[0]),
            resource(capacity.ioBytesPerSecond(), limits.reservedIo(), limits.ioCeiling(), used[1], required[1]),
            resource(capacity.memoryBytes(), limits.reservedMemory(), limits.memoryCeiling(), used[2], required[2]),
            -1, null);
    }

    private static Resource resource(final double capacity, final double reserved, final double ceiling, final double used,
        final double required)
    {
        final double usable = capacity - reserved;
        return new Resource(capacity, reserved, used, required, Math.max(0, ceiling * capacity - reserved - required),
            usable > 0 ? required / usable : Double.POSITIVE_INFINITY);
    }

    /**
     * The inventory of hosts' rows, with the headroom for VMs of one size.
     *
     * @param rows        each host's row ({@link #row}).
     * @param limits      each host's limits, by row.
     * @param constraints the placement (its closed hosts fit nothing).
     * @param cpu         the VM's CPU, reference cores (0: not counted).
     * @param io          its I/O, bytes a second.
     * @param memory      its memory, bytes.
     * @return the inventory.
     * @throws IllegalArgumentException if a size is negative or not finite, or all three are 0.
     */
    public static Inventory of(final List<Row> rows, final List<HostLimits> limits, final Constraints constraints,
        final double cpu, final double io, final double memory)
    {
        if (!(cpu >= 0 && io >= 0 && memory >= 0) || Double.isInfinite(cpu + io + memory) || cpu + io + memory == 0)
        {
            throw new IllegalArgumentException("a VM size needs CPU, I/O and memory at least 0 and finite, not all 0; got " +
                cpu + ", " + io + ", " + memory);
        }
        final List<Row> out = new ArrayList<>();
        long headroom = 0;
        final double[][] sums = new double[3][5];
        int vms = 0;
        for (int i = 0; i < rows.size(); i++)
        {
            final Row r = rows.get(i);
            final String closed = constraints.closedReason(r.host());
            long fits = closed != null ? 0 : Math.min(Math.min(fit(r.cpu().free(), cpu), fit(r.io().free(), io)),
                fit(r.memory().free(), memory));
            final int maxVms = limits.get(i).maxVms();
            if (maxVms > 0)
            {
                fits = Math.min(fits, Math.max(0, maxVms - r.vms()));
            }
            headroom += fits;
            vms += r.vms();
            add(sums[0], r.cpu());
            add(sums[1], r.io());
            add(sums[2], r.memory());
            out.add(new Row(r.host(), r.vms(), r.cpu(), r.io(), r.memory(), fits, closed));
        }
        return new Inventory(List.copyOf(out), new Row(-1, vms, total(sums[0]), total(sums[1]), total(sums[2]), headroom, null));
    }

    private static long fit(final double free, final double size)
    {
        return size == 0 ? Long.MAX_VALUE : (long)Math.floor(free / size + 1e-9);
    }

    private static void add(final double[] sum, final Resource r)
    {
        sum[0] += r.capacity();
        sum[1] += r.reserved();
        sum[2] += r.used();
        sum[3] += r.required();
        sum[4] += r.free();
    }

    private static Resource total(final double[] sum)
    {
        final double usable = sum[0] - sum[1];
        return new Resource(sum[0], sum[1], sum[2], sum[3], sum[4], usable > 0 ? sum[3] / usable : Double.POSITIVE_INFINITY);
    }

    /** @return the inventory as a terminal shows it: a line per host, then the cluster's. */
    public String toText()
    {
        final StringBuilder sb = new StringBuilder();
        hosts.forEach(r -> sb.append(r.toText()).append('\n'));
        return sb.append(cluster.toText()).append('\n').toString();
    }
}
