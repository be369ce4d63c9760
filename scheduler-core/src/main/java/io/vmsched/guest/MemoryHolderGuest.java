package io.vmsched.guest;

import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;

import java.nio.ByteBuffer;

/**
 * A guest that holds a block of memory, writes one page of it each slice (so it stays resident)
 * and reports its size.
 * <p>
 * Threading: as every {@link Guest}. {@link #resize(int)} is for the host agent while the entry is
 * stopped, or from the guest's own slice.
 */
public final class MemoryHolderGuest implements Guest
{
    private static final int PAGE = 4096;
    private static final int SNAPSHOT_MAGIC = 0x4D454D48; // 'MEMH'

    private byte[] memory;
    private int touchIndex;

    /**
     * @param bytes memory to hold, at least 0.
     */
    public MemoryHolderGuest(final int bytes)
    {
        resize(bytes);
    }

    /**
     * Hold a different amount of memory (contents are kept up to the smaller size).
     *
     * @param bytes memory to hold, at least 0.
     */
    public void resize(final int bytes)
    {
        if (bytes < 0)
        {
            throw new IllegalArgumentException("memory to hold must be >= 0, got " + bytes);
        }
        final byte[] next = new byte[bytes];
        if (memory != null)
        {
            System.arraycopy(memory, 0, next, 0, Math.min(bytes, memory.length));
        }
        memory = next;
        touchIndex = 0;
    }

    /** @return bytes held. */
    public int bytesHeld()
    {
        return memory.length;
    }

    @Override
    public void runSlice(final SliceContext context)
    {
        final byte[] memory = this.memory;
        if (memory.length > 0)
        {
            final int end = Math.min(touchIndex + PAGE, memory.length);
            for (int i = touchIndex; i < end; i += 64)
            {
                memory[i]++;
            }
            touchIndex = end == memory.length ? 0 : end;
        }
        context.reportMemory(memory.length);
    }

    @Override
    public byte[] snapshot()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(8 + memory.length);
        buffer.putInt(SNAPSHOT_MAGIC).putInt(memory.length).put(memory);
        return buffer.array();
    }

    @Override
    public void restore(final byte[] state)
    {
        final ByteBuffer buffer = ByteBuffer.wrap(state);
        if (state.length < 8 || buffer.getInt() != SNAPSHOT_MAGIC || buffer.getInt() != state.length - 8)
        {
            throw new IllegalArgumentException("not a memory holder snapshot (" + state.length + " bytes)");
        }
        memory = new byte[state.length - 8];
        buffer.get(memory);
        touchIndex = 0;
    }

    @Override
    public String toString()
    {
        return "MemoryHolderGuest{bytes=" + memory.length + '}';
    }
}
