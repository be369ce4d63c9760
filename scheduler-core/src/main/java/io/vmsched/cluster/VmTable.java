package io.vmsched.cluster;

import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayList;
import java.util.List;

/**
 * The VMs a host holds, by id and as a dense list (for the sampling and exchange loops, which
 * allocate nothing). Includes VMs migrating away until their migration commits.
 * <p>
 * Threading: changed and read by the host's agent only; {@link #count()} is a racy snapshot for any
 * thread.
 */
final class VmTable
{
    private final Long2ObjectHashMap<HostVm> byId = new Long2ObjectHashMap<>();
    private final List<HostVm> list = new ArrayList<>();
    private volatile int count;

    HostVm get(final long vmId)
    {
        return byId.get(vmId);
    }

    boolean contains(final long vmId)
    {
        return byId.containsKey(vmId);
    }

    int size()
    {
        return list.size();
    }

    HostVm at(final int index)
    {
        return list.get(index);
    }

    void add(final HostVm vm)
    {
        vm.index = list.size();
        list.add(vm);
        byId.put(vm.vmId, vm);
        count = list.size();
    }

    /** Remove a VM (swap with the last: O(1)) and drop its guest, the host's copy of its data. */
    void drop(final HostVm vm)
    {
        final int last = list.size() - 1;
        final HostVm moved = list.get(last);
        list.set(vm.index, moved);
        moved.index = vm.index;
        list.remove(last);
        byId.remove(vm.vmId);
        vm.guest = null;
        closeDriver(vm);
        count = list.size();
    }

    /** The host closes: every external VM's balloon driver stops its thread. */
    void closeDrivers()
    {
        for (int i = 0; i < list.size(); i++)
        {
            closeDriver(list.get(i));
        }
    }

    private static void closeDriver(final HostVm vm)
    {
        if (vm.balloonDriver != null)
        {
            vm.balloonDriver.close();
            vm.balloonDriver = null;
        }
    }

    /** @return VMs held, a racy snapshot safe from any thread. */
    int count()
    {
        return count;
    }
}
