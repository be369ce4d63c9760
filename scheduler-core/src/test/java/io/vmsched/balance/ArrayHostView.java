package io.vmsched.balance;

import java.util.Arrays;

/** A host view over plain arrays, for tests of the exchange's parts. */
final class ArrayHostView implements HostView
{
    final int hostId;
    final double[] hostLoads;
    int vms;
    long[] ids = new long[0];
    double[] loads = new double[0];
    double[] scale; // load of a VM on host h = its load here x scale[h] / scale[hostId]
    int[] migratingTo = new int[0];
    boolean[] pinned = new boolean[0];
    long[] arrivedAt = new long[0];
    int[] cameFrom = new int[0];
    int inFlight;

    ArrayHostView(final int hostId, final double... hostLoads)
    {
        this.hostId = hostId;
        this.hostLoads = hostLoads;
        this.scale = new double[hostLoads.length];
        Arrays.fill(scale, 1.0);
    }

    ArrayHostView vm(final long id, final double load)
    {
        ids = Arrays.copyOf(ids, vms + 1);
        loads = Arrays.copyOf(loads, vms + 1);
        migratingTo = Arrays.copyOf(migratingTo, vms + 1);
        migratingTo[vms] = -1;
        pinned = Arrays.copyOf(pinned, vms + 1);
        arrivedAt = Arrays.copyOf(arrivedAt, vms + 1);
        cameFrom = Arrays.copyOf(cameFrom, vms + 1);
        ids[vms] = id;
        loads[vms] = load;
        arrivedAt[vms] = NEVER;
        cameFrom[vms] = -1;
        vms++;
        return this;
    }

    @Override
    public int hostId()
    {
        return hostId;
    }

    @Override
    public int hosts()
    {
        return hostLoads.length;
    }

    @Override
    public double load()
    {
        return hostLoads[hostId];
    }

    @Override
    public double peerLoad(final int host)
    {
        return hostLoads[host];
    }

    @Override
    public int inFlight()
    {
        return inFlight;
    }

    @Override
    public int vmCount()
    {
        return vms;
    }

    @Override
    public long vmId(final int vm)
    {
        return ids[vm];
    }

    @Override
    public double vmLoad(final int vm)
    {
        return loads[vm];
    }

    @Override
    public double vmLoadOn(final int vm, final int host)
    {
        return loads[vm] * scale[host] / scale[hostId];
    }

    @Override
    public double volatility(final int vm)
    {
        return 0;
    }

    @Override
    public int movingTo(final int vm)
    {
        return migratingTo[vm];
    }

    @Override
    public boolean pinned(final int vm)
    {
        return pinned[vm];
    }

    @Override
    public long arrivedAt(final int vm)
    {
        return arrivedAt[vm];
    }

    @Override
    public int cameFrom(final int vm)
    {
        return cameFrom[vm];
    }
}
