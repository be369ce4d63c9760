package io.vmsched.cluster;

import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;
import io.vmsched.vm.VmHandle;

/** The journaled identity of a hypervisor's VM: its kind ({@code vm:qemu}) and its handle, launch spec included. */
final class DrivenVm implements Guest
{
    private final String kind;
    private final byte[] state;

    DrivenVm(final String kind, final VmHandle handle)
    {
        this.kind = kind;
        this.state = handle.encode();
    }

    @Override
    public void runSlice(final SliceContext context)
    {
        throw new IllegalStateException("a hypervisor's VM is never dispatched");
    }

    @Override
    public byte[] snapshot()
    {
        return state;
    }

    @Override
    public void restore(final byte[] state)
    {
        throw new UnsupportedOperationException("a hypervisor's VM is not restored");
    }

    @Override
    public String kind()
    {
        return kind;
    }
}
