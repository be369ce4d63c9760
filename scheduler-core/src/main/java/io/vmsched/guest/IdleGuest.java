package io.vmsched.guest;

import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;

/**
 * A guest that does nothing and has no state: for VMs whose load is programmed
 * ({@code Cluster.programLoad}), so that tests and harnesses measure the balancer and the handoffs,
 * not the OS's scheduling of busy guests.
 * <p>
 * Threadsafe: it holds nothing.
 */
public final class IdleGuest implements Guest
{
    private static final byte[] EMPTY = new byte[0];

    /** For the guest registry (a public no-argument constructor). */
    public IdleGuest()
    {
    }

    @Override
    public void runSlice(final SliceContext context)
    {
        context.idle();
    }

    @Override
    public byte[] snapshot()
    {
        return EMPTY;
    }

    @Override
    public void restore(final byte[] state)
    {
    }
}
