package io.vmsched.sim;

import io.vmsched.balance.HostView;
import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadModel;
import io.vmsched.load.VmLoad;

import java.util.Arrays;

/**
 * The simulated cluster's state: which host holds each VM, each VM's usage (raw and, through the
 * runtime's own {@link VmLoad}, smoothed), each host's capacity and load, and where each VM is in a
 * migration. Seen through {@link #as(int)}, it is the {@link HostView} of one host that the shared
 * {@link io.vmsched.balance.Exchange} reads, as the runtime's host agent is.
 * <p>
 * A VM's load on a host is {@link LoadModel#load} of its usage and that host's capacity; the
 * observed figure (what the balancer sees) is its smoothed usage, the actual one its raw usage of the
 * step. Clocks are steps.
 * <p>
 * <b>Note:</b> Not threadsafe: one simulation's thread.
 */
public final class SimulatedHosts implements HostView
{
    private final LoadModel model;
    private final HostCapacity[] capacities;
    private final int hosts;
    private final int vms;
    private final int[] vmHost;
    private final int[][] hostVms;
    private int active; // hosts [0, active) are in the cluster; the others are machines not yet added
    private final int[] hostCount;
    private final int[] vmPos;
    private final VmLoad[] usage;
    private final LoadModel.Volatility[] volatility;
    private final double[] cpu;
    private final double[] io;
    private final double[] memory;
    private final boolean[] pinned;
    private final long[] arrivedAt;
    private final int[] cameFrom;
    private final int[] migratingTo;
    private final int[] inFlight;
    private final double[] actual;
    private final double[] observed;
    private int current;
    private io.vmsched.balance.Exchange[] exchanges; // where a contacted peer's hint of a heavy host is read

    /**
     * @param exchanges each host's exchange, where what a contacted peer tells of the heaviest host it
     *                  heard of is read ({@link io.vmsched.balance.Exchange#heavyHost()}).
     */
    public void exchanges(final io.vmsched.balance.Exchange[] exchanges)
    {
        this.exchanges = exchanges;
    }

    /**
     * @param model           the load model.
     * @param capacities      each host's capacity.
     * @param vms             number of VMs (ids 0 .. vms - 1), none placed yet.
     * @param smoothingWindow samples a VM's observed usage is smoothed over (1 = none).
     */
    public SimulatedHosts(final LoadModel model, final HostCapacity[] capacities, final int vms,
        final double smoothingWindow)
    {
        this.model = model;
        this.capacities = capacities.clone();
        this.hosts = capacities.length;
        this.vms = vms;
        vmHost = new int[vms];
        hostVms = new int[hosts][];
        active = hosts;
        hostCount = new int[hosts];
        vmPos = new int[vms];
        usage = new VmLoad[vms];
        volatility = new LoadModel.Volatility[vms];
        cpu = new double[vms];
        io = new double[vms];
        memory = new double[vms];
        pinned = new boolean[vms];
        arrivedAt = new long[vms];
        cameFrom = new int[vms];
        migratingTo = new int[vms];
        inFlight = new int[hosts];
        actual = new double[hosts];
        observed = new double[hosts];
        for (int h = 0; h < hosts; h++)
        {
            hostVms[h] = new int[8];
        }
        for (int v = 0; v < vms; v++)
        {
            usage[v] = new VmLoad(smoothingWindow);
            volatility[v] = new LoadModel.Volatility();
        }
        Arrays.fill(vmHost, -1);
        Arrays.fill(arrivedAt, NEVER);
        Arrays.fill(cameFrom, -1);
        Arrays.fill(migratingTo, -1);
    }

    /**
     * Place a VM on a host at the start (it never arrived by migration, so no guard holds it).
     *
     * @param vm   the VM.
     * @param host its host.
     */
    public void place(final int vm, final int host)
    {
        if (host < 0 || host >= hosts)
        {
            throw new IllegalArgumentException("vm " + vm + " placed on host " + host + " of " + hosts);
        }
        add(vm, host);
    }

    /**
     * A VM's usage over a step: the actual figure, and a sample for its smoothed (observed) one.
     *
     * @param vm               the VM.
     * @param cpuCores         reference cores busy.
     * @param ioBytesPerSecond I/O rate.
     * @param memoryBytes      memory held.
     */
    public void measure(final int vm, final double cpuCores, final double ioBytesPerSecond, final double memoryBytes)
    {
        cpu[vm] = cpuCores;
        io[vm] = ioBytesPerSecond;
        memory[vm] = memoryBytes;
        usage[vm].measure(cpuCores, ioBytesPerSecond, memoryBytes);
        volatility[vm].update(model.load(cpuCores, ioBytesPerSecond, memoryBytes, capacities[vmHost[vm]]));
    }

    /**
     * A balloon changed what a VM holds (issue 19): its memory is this figure from now until the next
     * {@link #measure}, in its actual load and in its observed one (the change is taken as one more sample
     * of the VM, the same CPU and I/O: exact with no smoothing, a sample more in the average with it), and
     * its host's loads follow.
     *
     * @param vm          the VM.
     * @param memoryBytes what it holds now.
     */
    public void balloon(final int vm, final double memoryBytes)
    {
        final int h = vmHost[vm];
        final double actualBefore = actualLoad(vm, h);
        final double observedBefore = observedLoad(vm, h);
        memory[vm] = memoryBytes;
        usage[vm].measure(cpu[vm], io[vm], memoryBytes);
        actual[h] += actualLoad(vm, h) - actualBefore;
        observed[h] += observedLoad(vm, h) - observedBefore;
    }

    /** @param vm a VM. @return the memory it holds now (its last measure, or what a balloon left it), bytes. */
    public double memory(final int vm)
    {
        return memory[vm];
    }

    /** @param host a host. @return its memory, bytes. */
    public double memoryCapacity(final int host)
    {
        return capacities[host].memoryBytes();
    }

    /**
     * Program a VM's usage (what the balancer sees: a target, as an operator's reservation).
     *
     * @param vm               the VM.
     * @param cpuCores         reference cores.
     * @param ioBytesPerSecond I/O rate.
     * @param memoryBytes      memory.
     */
    public void program(final int vm, final double cpuCores, final double ioBytesPerSecond, final double memoryBytes)
    {
        usage[vm].program(cpuCores, ioBytesPerSecond, memoryBytes);
    }

    /**
     * Pin a VM: it never moves (an external VM no driver can move).
     *
     * @param vm the VM.
     */
    public void pin(final int vm)
    {
        pinned[vm] = true;
    }

    /** Recompute every host's actual and observed load from its VMs. */
    public void recomputeLoads()
    {
        for (int h = 0; h < hosts; h++)
        {
            double a = 0;
            double o = 0;
            final int[] list = hostVms[h];
            for (int i = 0; i < hostCount[h]; i++)
            {
                a += actualLoad(list[i], h);
                o += observedLoad(list[i], h);
            }
            actual[h] = a;
            observed[h] = o;
        }
    }

    /**
     * A migration starts: the VM stays on its host, migrating, until {@link #arrive}.
     *
     * @param vm the VM.
     * @param to the target.
     */
    public void depart(final int vm, final int to)
    {
        migratingTo[vm] = to;
        inFlight[vmHost[vm]]++;
    }

    /**
     * A migration started by {@link #depart} is given up (its target refused the VM): it stays where it is.
     *
     * @param vm the VM.
     */
    public void cancel(final int vm)
    {
        if (migratingTo[vm] >= 0)
        {
            inFlight[vmHost[vm]]--;
            migratingTo[vm] = -1;
        }
    }

    /**
     * A VM arrives on a host by migration at a step (from {@link #depart}, or at once).
     *
     * @param vm   the VM.
     * @param to   the target.
     * @param step the step.
     */
    public void arrive(final int vm, final int to, final long step)
    {
        final int from = vmHost[vm];
        if (migratingTo[vm] >= 0)
        {
            inFlight[from]--;
            migratingTo[vm] = -1;
        }
        final double observedOut = observedLoad(vm, from);
        final double observedIn = observedLoad(vm, to);
        actual[from] -= actualLoad(vm, from);
        actual[to] += actualLoad(vm, to);
        observed[from] -= observedOut;
        observed[to] += observedIn;
        remove(vm, from);
        add(vm, to);
        arrivedAt[vm] = step;
        cameFrom[vm] = from;
    }

    /**
     * @param host a host.
     * @return this state seen as that host's view (the same object: one host at a time).
     */
    public SimulatedHosts as(final int host)
    {
        current = host;
        return this;
    }

    /** @return number of VMs. */
    public int vms()
    {
        return vms;
    }

    /** @param vm a VM. @return its host (its source while it migrates). */
    public int hostOf(final int vm)
    {
        return vmHost[vm];
    }

    /** @param vm a VM. @return the host it is migrating to, -1 if none. */
    public int migratingTo(final int vm)
    {
        return migratingTo[vm];
    }

    /** @param host a host. @return VMs on it. */
    public int count(final int host)
    {
        return hostCount[host];
    }

    /** @param host a host. @param i an index below {@link #count}. @return the VM at that index. */
    public int vmAt(final int host, final int i)
    {
        return hostVms[host][i];
    }

    /** @return each host's actual load (the array itself: read only). */
    public double[] actualLoads()
    {
        return actual;
    }

    /** @return each host's observed load (the array itself: read only). */
    public double[] observedLoads()
    {
        return observed;
    }

    /** @param vm a VM. @param host a host. @return the VM's observed load on that host. */
    public double observedLoad(final int vm, final int host)
    {
        return model.load(usage[vm].factors(), capacities[host]);
    }

    private double actualLoad(final int vm, final int host)
    {
        return model.load(cpu[vm], io[vm], memory[vm], capacities[host]);
    }

    private void add(final int v, final int h)
    {
        if (hostCount[h] == hostVms[h].length)
        {
            hostVms[h] = Arrays.copyOf(hostVms[h], hostVms[h].length * 2);
        }
        vmPos[v] = hostCount[h];
        hostVms[h][hostCount[h]++] = v;
        vmHost[v] = h;
    }

    private void remove(final int v, final int h)
    {
        final int pos = vmPos[v];
        final int last = hostVms[h][--hostCount[h]];
        hostVms[h][pos] = last;
        vmPos[last] = pos;
    }

    // ------------------------------------------------------------------------------------------
    // HostView of the host selected by as(host).
    // ------------------------------------------------------------------------------------------

    @Override
    public int hostId()
    {
        return current;
    }

    @Override
    public int hosts()
    {
        return hosts;
    }

    @Override
    public double load()
    {
        return observed[current];
    }

    @Override
    public double peerLoad(final int host)
    {
        return host < active ? observed[host] : Double.NaN; // a machine not yet added answers as one that is down
    }

    /**
     * Hosts {@code [0, active)} are in the cluster; the others, not yet added, answer no contact.
     *
     * @param active hosts in the cluster now.
     */
    public void active(final int active)
    {
        this.active = active;
    }

    @Override
    public int peerHeavyHost(final int host)
    {
        return exchanges == null ? -1 : exchanges[host].heavyHost();
    }

    @Override
    public double peerHeavyLoad(final int host)
    {
        return exchanges == null ? Double.NaN : exchanges[host].heavyLoad();
    }

    @Override
    public long peerHeavyAt(final int host)
    {
        return exchanges == null ? 0 : exchanges[host].heavyAt();
    }

    @Override
    public int inFlight()
    {
        return inFlight[current];
    }

    @Override
    public int vmCount()
    {
        return hostCount[current];
    }

    @Override
    public long vmId(final int vm)
    {
        return hostVms[current][vm];
    }

    @Override
    public double vmLoad(final int vm)
    {
        return observedLoad(hostVms[current][vm], current);
    }

    @Override
    public double vmLoadOn(final int vm, final int host)
    {
        return observedLoad(hostVms[current][vm], host);
    }

    @Override
    public double volatility(final int vm)
    {
        return volatility[hostVms[current][vm]].value();
    }

    @Override
    public int movingTo(final int vm)
    {
        return migratingTo[hostVms[current][vm]];
    }

    @Override
    public boolean pinned(final int vm)
    {
        return pinned[hostVms[current][vm]];
    }

    @Override
    public long arrivedAt(final int vm)
    {
        return arrivedAt[hostVms[current][vm]];
    }

    @Override
    public int cameFrom(final int vm)
    {
        return cameFrom[hostVms[current][vm]];
    }
}
