package io.vmsched.cluster;

import io.vmsched.dispatch.Guest;
import io.vmsched.load.LoadModel;
import io.vmsched.load.VmLoad;

import java.nio.charset.StandardCharsets;

/**
 * One VM on a host, as its agent keeps it: identity, guest, load, and where it is in a migration.
 * <p>
 * <b>Note:</b> Not threadsafe: owned by the host's agent.
 */
final class HostVm
{
    final long vmId;
    int weight; // changed by a balloon's processors (agent only)
    final byte[] kindUtf8;
    final boolean external; // runs outside (bound to a process): never dispatched
    final boolean driven; // a hypervisor's VM (kind DRIVEN_KIND_PREFIX + its driver's kind): moved by live migration
    io.vmsched.vm.VmHandle handle; // a driven VM's, as its host's driver knows it; null if the driver does not
    final VmLoad load;
    final LoadModel.Volatility volatility = new LoadModel.Volatility();
    Guest guest;
    long lastCpuNs;
    long lastIoBytes;
    long arrivedNs = io.vmsched.balance.HostView.NEVER; // by migration: admitted and recovered VMs are exempt from residency
    int cameFrom = -1;
    HandoffSource.Outgoing out; // non-null while it migrates away
    int heldRemoves; // remove requests that wait for this VM's migration outcome
    double usageCpu;
    double usageIo;
    double usageMemory;
    int index;
    // the balloon policy's marks (agent only): the VM's own size before the host first asked it to give memory
    // (0: not ballooned), and what it held when it last answered an inflate short (-1: it did not), so it is not
    // asked again until it grew
    long balloonNatural;
    long balloonShortAt = -1;
    /** An external VM's balloon, its hypervisor's driver (null if none); closed when the VM leaves. */
    DriverMailbox balloonDriver;

    HostVm(final long vmId, final int weight, final String kind, final Guest guest, final double smoothing)
    {
        this.vmId = vmId;
        this.weight = weight;
        this.kindUtf8 = kind.getBytes(StandardCharsets.UTF_8);
        this.driven = kind.startsWith(HostRuntime.DRIVEN_KIND_PREFIX);
        this.external = driven || HostRuntime.EXTERNAL_KIND.equals(kind);
        this.guest = guest;
        this.load = new VmLoad(smoothing);
    }
}
