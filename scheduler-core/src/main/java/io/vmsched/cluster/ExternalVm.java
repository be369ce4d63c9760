package io.vmsched.cluster;

import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** The journaled identity of an external VM: its name and PID. */
final class ExternalVm implements Guest
{
    private final byte[] state;

    ExternalVm(final String name, final long pid)
    {
        final byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        state = ByteBuffer.allocate(8 + utf8.length).putLong(pid).put(utf8).array();
    }

    /** @return the PID in an external VM's journaled state. */
    static long pid(final byte[] state)
    {
        return ByteBuffer.wrap(state).getLong(0);
    }

    /** @return the name in an external VM's journaled state. */
    static String name(final byte[] state)
    {
        return new String(state, 8, state.length - 8, StandardCharsets.UTF_8);
    }

    @Override
    public void runSlice(final SliceContext context)
    {
        throw new IllegalStateException("an external VM is never dispatched");
    }

    @Override
    public byte[] snapshot()
    {
        return state;
    }

    @Override
    public void restore(final byte[] state)
    {
        throw new UnsupportedOperationException("an external VM is not restored");
    }

    @Override
    public String kind()
    {
        return HostRuntime.EXTERNAL_KIND;
    }
}
