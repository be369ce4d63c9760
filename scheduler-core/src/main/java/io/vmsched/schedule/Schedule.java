package io.vmsched.schedule;

import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.IoUtil;
import org.agrona.UnsafeApi;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.VarHandle;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;

import static io.vmsched.schedule.EntryState.DELETED;
import static io.vmsched.schedule.EntryState.FREE;
import static io.vmsched.schedule.EntryState.MIGRATING_IN;
import static io.vmsched.schedule.EntryState.MIGRATING_OUT;
import static io.vmsched.schedule.EntryState.NONE;
import static io.vmsched.schedule.EntryState.RUNNABLE;
import static io.vmsched.schedule.EntryState.RUNNING;
import static io.vmsched.schedule.EntryState.SUSPENDED;
import static io.vmsched.schedule.ScheduleDescriptor.*;

/**
 * A host's schedule: a ring of fixed 64-byte slots in an off-heap {@link AtomicBuffer} (direct or
 * memory-mapped), one slot per VM entry. See {@link ScheduleDescriptor} for the layout and
 * {@link EntryState} for the states and who may move a slot between them.
 * <p>
 * Two kinds of caller:
 * <ul>
 *     <li>the <b>host agent</b>, the single writer of the schedule's structure: {@link #insert},
 *     {@link #delete}, {@link #suspend}, {@link #stopForMigration}, {@link #resume},
 *     {@link #reclaim} and the vmId lookups. These methods are not threadsafe: call them from one
 *     thread only.</li>
 *     <li>any number of <b>workers</b>: {@link #claimNext}, {@link #budgetNanos}, {@link #release},
 *     {@link #releaseFailed} and the per-slot reads. These are threadsafe with each other and with
 *     the agent; each worker uses its own {@link DispatchCursor}.</li>
 * </ul>
 * Dispatch is lock-free and allocates nothing: a worker claims a RUNNABLE slot by CAS
 * (RUNNABLE → RUNNING), and owns the slot's payload until it stores the next state with a release
 * store. Share is proportional to weight by deficit round robin: each turn of the ring grants an
 * entry {@code weight × quantum} of credit, and each slice is charged the CPU time it used. An entry
 * is offered at most once per turn; a turn whose offer it missed because it was still RUNNING (a long
 * slice, or its worker descheduled by the OS) is granted at its next claim. A slice's budget is the
 * turn's quantum plus the credit carried, kept within [half a quantum, {@link #MAX_CATCH_UP_TURNS}
 * quanta].
 * <p>
 * Invariant, per entry: credit = quanta granted − CPU charged, except where a bound cuts it: a slice
 * that uses less than a quantum raises credit to at most {@link #MAX_CATCH_UP_TURNS} − 1 quanta (an
 * entry that does not use its share does not bank it), and credit (owed for missed turns) and debt
 * (for overruns) are bounded by {@link #MAX_CREDIT_NANOS}. Within those bounds the CPU charged to
 * entries that use their budgets is proportional to weight, whatever the OS does to the workers:
 * what a stalled worker's entry missed is paid back in later turns, and so is what an overrun took.
 * <p>
 * <b>Note:</b> Instances are threadsafe for claim and release, not for insert, delete or the other
 * structural changes, which belong to the host agent.
 */
public final class Schedule implements AutoCloseable
{
    /** Returned by {@link #claimNext} when no slot could be claimed in one turn of the ring. */
    public static final int NO_SLOT = -1;
    /** Largest weight an entry may have. */
    public static final int MAX_WEIGHT = 1 << 16;
    /** Default nanoseconds of CPU granted per weight unit each turn. */
    public static final int DEFAULT_QUANTUM_NANOS = 50_000;
    /**
     * Most turns of quanta one slice is granted; credit beyond it (owed for offers missed while the
     * entry ran) is spent in later turns. Also the bound, in quanta, of idle banking and of debt.
     */
    public static final int MAX_CATCH_UP_TURNS = 16;
    /** Largest weight x quantum: the credit of {@link #MAX_CATCH_UP_TURNS} of them must fit an int. */
    public static final int MAX_SLICE_NANOS = Integer.MAX_VALUE / (2 * MAX_CATCH_UP_TURNS);
    /**
     * Most CPU nanoseconds an entry can be owed for turns it missed while RUNNING, or owe for slices
     * that overran (or {@link #MAX_CATCH_UP_TURNS} − 1 quanta, if more). The OS may deschedule the
     * worker holding an entry for milliseconds (up to 100 ms seen on a busy 2-core host) while the
     * other workers serve many turns; the entry is paid that back in later turns, so that share holds
     * over a window of about a second. Fits an int with room for a quantum.
     */
    public static final int MAX_CREDIT_NANOS = 250_000_000;
    /** Default number of ring positions a worker takes from the shared cursor at once. */
    public static final int DEFAULT_CLAIM_BATCH = 16;

    /** Result of a structural request on an entry. */
    public enum Transition
    {
        /** The entry is in the requested state now. */
        DONE,
        /**
         * The entry was running: it reaches the requested state when its slice ends, and
         * {@link #reclaim()} completes the request after that.
         */
        DEFERRED
    }

    private final AtomicBuffer buffer;
    private final MappedByteBuffer mapped;
    // Absolute addresses for the dispatch path, which skips the buffer's bounds checks: every slot
    // address is built from an index masked to the capacity the constructor checked the buffer holds.
    private final long slotsAddress;
    private final long cursorAddress;
    private final int capacity;
    private final int mask;
    private final int capacityShift;
    private final int claimBatch;
    private final int quantumNanos;

    // Owned by the host agent thread.
    private final Long2LongHashMap slotByVmId;
    private final int[] freeSlots;
    private int freeCount;
    private final int[] requested;
    private final int[] deferredSlots;
    private int deferredCount;
    private int liveCount;

    // Written by the agent before the state that publishes the entry; read by workers after their CAS.
    private final Object[] attachments;

    /**
     * Wrap a buffer as a new, empty schedule; the buffer's header and slots are overwritten.
     *
     * @param buffer       off-heap, of at least {@link ScheduleDescriptor#bufferLength(int)} bytes, 8-byte aligned.
     * @param capacity     number of slots, a power of two up to {@link ScheduleDescriptor#MAX_CAPACITY}.
     * @param quantumNanos CPU nanoseconds granted per weight unit each turn.
     * @param claimBatch   ring positions a worker takes at once, a power of two; clipped to a quarter of
     *                     the capacity.
     */
    public Schedule(final AtomicBuffer buffer, final int capacity, final int quantumNanos, final int claimBatch)
    {
        this(buffer, null, capacity, quantumNanos, claimBatch);
    }

    private Schedule(
        final AtomicBuffer buffer,
        final MappedByteBuffer mapped,
        final int capacity,
        final int quantumNanos,
        final int claimBatch)
    {
        checkCapacity(capacity);
        if (quantumNanos < 1)
        {
            throw new IllegalArgumentException("quantum must be at least 1 ns, got " + quantumNanos);
        }
        if (claimBatch < 1 || !BitUtil.isPowerOfTwo(claimBatch))
        {
            throw new IllegalArgumentException("claim batch must be a power of two >= 1, got " + claimBatch);
        }
        if (buffer.capacity() < bufferLength(capacity))
        {
            throw new IllegalArgumentException("buffer of " + buffer.capacity() + " bytes is too small for " +
                capacity + " slots: " + bufferLength(capacity) + " bytes needed");
        }
        if (buffer.byteArray() != null)
        {
            throw new IllegalArgumentException("a schedule needs an off-heap buffer (direct or mapped): " +
                "atomic access to a byte[] is not aligned");
        }
        buffer.verifyAlignment();

        this.buffer = buffer;
        this.mapped = mapped;
        this.slotsAddress = buffer.addressOffset() + HEADER_LENGTH;
        this.cursorAddress = buffer.addressOffset() + CURSOR_OFFSET;
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.capacityShift = Integer.numberOfTrailingZeros(capacity);
        // A batch of at most a quarter of the ring keeps several workers inside one turn together.
        this.claimBatch = Math.max(1, Math.min(claimBatch, capacity >> 2));
        this.quantumNanos = quantumNanos;
        this.slotByVmId = new Long2LongHashMap(capacity * 2, 0.65f, NO_SLOT);
        this.freeSlots = new int[capacity];
        this.requested = new int[capacity];
        this.deferredSlots = new int[capacity];
        this.attachments = new Object[capacity];

        buffer.setMemory(0, bufferLength(capacity), (byte)0);
        for (int i = 0; i < capacity; i++)
        {
            freeSlots[i] = capacity - 1 - i; // pop order 0, 1, 2 ... keeps live entries together
        }
        freeCount = capacity;

        buffer.putInt(VERSION_OFFSET, LAYOUT_VERSION);
        buffer.putInt(CAPACITY_OFFSET, capacity);
        buffer.putInt(SLOT_LENGTH_OFFSET, SLOT_LENGTH);
        buffer.putLong(PID_OFFSET, ProcessHandle.current().pid());
        buffer.putLong(START_TIME_OFFSET, System.currentTimeMillis());
        buffer.putInt(QUANTUM_OFFSET, quantumNanos);
        buffer.putInt(CLAIM_BATCH_OFFSET, this.claimBatch);
        buffer.putIntRelease(MAGIC_OFFSET, MAGIC); // last: a reader that sees the magic sees the header
    }

    /**
     * A schedule in a new direct buffer, aligned to a cache line.
     *
     * @param capacity number of slots, a power of two.
     * @return the empty schedule.
     */
    public static Schedule allocate(final int capacity)
    {
        return allocate(capacity, DEFAULT_QUANTUM_NANOS, DEFAULT_CLAIM_BATCH);
    }

    /**
     * A schedule in a new direct buffer, aligned to a cache line.
     *
     * @param capacity     number of slots, a power of two.
     * @param quantumNanos CPU nanoseconds granted per weight unit each turn.
     * @param claimBatch   ring positions a worker takes at once.
     * @return the empty schedule.
     */
    public static Schedule allocate(final int capacity, final int quantumNanos, final int claimBatch)
    {
        checkCapacity(capacity);
        final UnsafeBuffer buffer = new UnsafeBuffer(
            BufferUtil.allocateDirectAligned(bufferLength(capacity), BitUtil.CACHE_LINE_LENGTH));
        return new Schedule(buffer, null, capacity, quantumNanos, claimBatch);
    }

    /**
     * A schedule in a new memory-mapped file, so that another process can read it live with
     * {@link ScheduleReader}. An existing file is replaced.
     *
     * @param file         the file to create.
     * @param capacity     number of slots, a power of two.
     * @param quantumNanos CPU nanoseconds granted per weight unit each turn.
     * @param claimBatch   ring positions a worker takes at once.
     * @return the empty schedule; {@link #close()} unmaps the file.
     */
    public static Schedule mapNew(final Path file, final int capacity, final int quantumNanos, final int claimBatch)
    {
        checkCapacity(capacity);
        final MappedByteBuffer mapped = IoUtil.mapNewFile(file.toFile(), bufferLength(capacity), false);
        return new Schedule(new UnsafeBuffer(mapped), mapped, capacity, quantumNanos, claimBatch);
    }

    private static void checkCapacity(final int capacity)
    {
        if (capacity < 1 || capacity > MAX_CAPACITY || !BitUtil.isPowerOfTwo(capacity))
        {
            throw new IllegalArgumentException(
                "schedule capacity must be a power of two in [1, " + MAX_CAPACITY + "], got " + capacity);
        }
    }

    /**
     * @return number of slots.
     */
    public int capacity()
    {
        return capacity;
    }

    /**
     * @return CPU nanoseconds granted per weight unit each turn.
     */
    public int quantumNanos()
    {
        return quantumNanos;
    }

    /**
     * @return ring positions a worker takes from the shared cursor at once.
     */
    public int claimBatch()
    {
        return claimBatch;
    }

    /**
     * Ring positions handed to workers so far: a turn of the ring is {@link #capacity()} positions.
     *
     * @return the shared dispatch cursor.
     */
    public long dispatchPosition()
    {
        return buffer.getLongVolatile(CURSOR_OFFSET);
    }

    /**
     * The underlying buffer, for readers that know the layout.
     *
     * @return the buffer.
     */
    public AtomicBuffer buffer()
    {
        return buffer;
    }

    // ------------------------------------------------------------------------------------------
    // Host agent: structural changes. Single writer.
    // ------------------------------------------------------------------------------------------

    /**
     * Insert an entry. Agent thread only. Allocates nothing.
     *
     * @param vmId         the VM's id, unique in this schedule.
     * @param weight       its share, in [1, {@link #MAX_WEIGHT}].
     * @param initialState {@link EntryState#RUNNABLE}, {@link EntryState#SUSPENDED} or
     *                     {@link EntryState#MIGRATING_IN}.
     * @param attachment   the object workers run for this entry (a guest), or null.
     * @return the slot index.
     * @throws ScheduleException if the vmId is already present or the schedule is full.
     */
    public int insert(final long vmId, final int weight, final int initialState, final Object attachment)
    {
        if (weight < 1 || weight > MAX_WEIGHT)
        {
            throw new IllegalArgumentException("vm " + vmId + ": weight must be in [1, " + MAX_WEIGHT + "], got " +
                weight);
        }
        if ((long)weight * quantumNanos > MAX_SLICE_NANOS)
        {
            throw new IllegalArgumentException("vm " + vmId + ": weight " + weight + " x quantum " + quantumNanos +
                " ns exceeds the largest slice of " + MAX_SLICE_NANOS + " ns");
        }
        if (initialState != RUNNABLE && initialState != SUSPENDED && initialState != MIGRATING_IN)
        {
            throw new IllegalArgumentException("vm " + vmId + ": an entry is inserted RUNNABLE, SUSPENDED or " +
                "MIGRATING_IN, not " + EntryState.name(initialState));
        }
        if (slotByVmId.containsKey(vmId))
        {
            reclaim(); // it may be a deferred delete whose slice has ended
            if (slotByVmId.containsKey(vmId))
            {
                final int slot = (int)slotByVmId.get(vmId);
                throw new ScheduleException("vm " + vmId + " is already in the schedule (slot " + slot + ", " +
                    EntryState.name(stateOfSlot(slot)) +
                    (requested[slot] == DELETED ? ", being deleted: its slice has not ended yet" : "") +
                    "); capacity " + capacity);
            }
        }
        if (freeCount == 0)
        {
            reclaim();
            if (freeCount == 0)
            {
                throw new ScheduleException("schedule full: cannot insert vm " + vmId + ", all " + capacity +
                    " slots are in use (" + deferredCount + " waiting for a slice to end)");
            }
        }

        final int slot = freeSlots[--freeCount];
        final int offset = slotOffset(slot);
        buffer.putLong(offset + VM_ID_OFFSET, vmId);
        buffer.putInt(offset + WEIGHT_OFFSET, weight);
        buffer.putInt(offset + PENDING_OFFSET, NONE);
        buffer.putInt(offset + SERVED_TURN_OFFSET, currentTurn() - 1);
        buffer.putInt(offset + CREDIT_OFFSET, 0);
        buffer.putLong(offset + CPU_NANOS_OFFSET, 0);
        buffer.putLong(offset + SLICES_OFFSET, 0);
        buffer.putLong(offset + IO_BYTES_OFFSET, 0);
        buffer.putLong(offset + MEM_BYTES_OFFSET, 0);
        attachments[slot] = attachment;
        requested[slot] = NONE;
        buffer.putIntRelease(offset + STATE_OFFSET, initialState); // publishes payload and attachment

        slotByVmId.put(vmId, slot);
        buffer.putIntRelease(LIVE_COUNT_OFFSET, ++liveCount);
        return slot;
    }

    /**
     * Change an entry's weight (its share from the next grant on). Agent thread only. A worker that reads the
     * weight while it changes sees the old or the new one: either is a valid share for one slice.
     *
     * @param vmId   the VM's id.
     * @param weight its new share, in [1, {@link #MAX_WEIGHT}].
     * @throws IllegalArgumentException if the weight is out of range.
     * @throws ScheduleException        if the vmId is not in the schedule.
     */
    public void setWeight(final long vmId, final int weight)
    {
        if (weight < 1 || weight > MAX_WEIGHT || (long)weight * quantumNanos > MAX_SLICE_NANOS)
        {
            throw new IllegalArgumentException("vm " + vmId + ": weight must be in [1, " +
                Math.min(MAX_WEIGHT, MAX_SLICE_NANOS / quantumNanos) + "], got " + weight);
        }
        final int slot = slotOrThrow(vmId, "set the weight of");
        buffer.putIntVolatile(slotOffset(slot) + WEIGHT_OFFSET, weight);
    }

    /**
     * Delete an entry. Agent thread only. If a worker is running it, the slot is freed when its
     * slice ends (the vmId stays reserved until then, and {@link #reclaim()} frees it); it is never
     * dispatched again either way.
     *
     * @param vmId the VM's id.
     * @return DONE if the slot is free now, DEFERRED if it is waiting for a slice to end.
     * @throws ScheduleException if the vmId is not in the schedule.
     */
    public Transition delete(final long vmId)
    {
        final int slot = slotOrThrow(vmId, "delete");
        requested[slot] = DELETED; // a delete overrides a pending suspend or stop
        return settle(slot) ? Transition.DONE : deferred(slot);
    }

    /**
     * Stop dispatching an entry and keep it in the schedule. Agent thread only.
     *
     * @param vmId the VM's id.
     * @return DONE if it is SUSPENDED now, DEFERRED if it becomes so when its running slice ends.
     * @throws ScheduleException if the vmId is unknown or a delete is pending.
     */
    public Transition suspend(final long vmId)
    {
        return requestStop(vmId, SUSPENDED, "suspend");
    }

    /**
     * Stop an entry for a migration away from this host: it ends in MIGRATING_OUT once no worker
     * runs it. Agent thread only.
     *
     * @param vmId the VM's id.
     * @return DONE if it is MIGRATING_OUT now, DEFERRED if it becomes so when its running slice ends.
     * @throws ScheduleException if the vmId is unknown or another request is pending.
     */
    public Transition stopForMigration(final long vmId)
    {
        return requestStop(vmId, MIGRATING_OUT, "stop for migration");
    }

    /**
     * Make a stopped entry (SUSPENDED, MIGRATING_OUT or MIGRATING_IN) RUNNABLE again. Agent thread
     * only.
     *
     * @param vmId the VM's id.
     * @throws ScheduleException if the vmId is unknown, a request on it is still pending, or it is not stopped.
     */
    public void resume(final long vmId)
    {
        final int slot = slotOrThrow(vmId, "resume");
        if (requested[slot] != NONE)
        {
            throw new ScheduleException("vm " + vmId + ": cannot resume while its " +
                EntryState.name(requested[slot]) + " request waits for a slice to end; call reclaim() first");
        }
        final int offset = slotOffset(slot);
        final int state = buffer.getIntVolatile(offset + STATE_OFFSET);
        if (state != SUSPENDED && state != MIGRATING_OUT && state != MIGRATING_IN)
        {
            throw new ScheduleException("vm " + vmId + ": cannot resume from " + EntryState.name(state));
        }
        buffer.putInt(offset + SERVED_TURN_OFFSET, currentTurn() - 1); // turns spent stopped earn no catch-up
        // Nor does credit owed from before the stop outlast it beyond what an idle entry may bank.
        final long bankBound = (MAX_CATCH_UP_TURNS - 1) * (long)buffer.getInt(offset + WEIGHT_OFFSET) * quantumNanos;
        if (buffer.getInt(offset + CREDIT_OFFSET) > bankBound)
        {
            buffer.putInt(offset + CREDIT_OFFSET, (int)bankBound);
        }
        buffer.putIntRelease(offset + STATE_OFFSET, RUNNABLE);
    }

    /**
     * Complete the requests that were deferred because their entry was running. Agent thread only;
     * call it each duty cycle. Allocates nothing.
     *
     * @return number of requests completed.
     */
    public int reclaim()
    {
        int completed = 0;
        for (int i = 0; i < deferredCount; )
        {
            final int slot = deferredSlots[i];
            if (settle(slot))
            {
                deferredSlots[i] = deferredSlots[--deferredCount];
                completed++;
            }
            else
            {
                i++;
            }
        }
        return completed;
    }

    /**
     * @return number of requests waiting for a running slice to end.
     */
    public int deferredCount()
    {
        return deferredCount;
    }

    /**
     * Number of entries in the schedule, including those deleted but still finishing a slice. Agent
     * thread only.
     *
     * @return live entries.
     */
    public int size()
    {
        return liveCount;
    }

    /**
     * Is the vmId in the schedule? Agent thread only.
     *
     * @param vmId the VM's id.
     * @return true if it has a slot (a deferred delete keeps it until reclaimed).
     */
    public boolean contains(final long vmId)
    {
        return slotByVmId.containsKey(vmId);
    }

    /**
     * The slot of a vmId. Agent thread only.
     *
     * @param vmId the VM's id.
     * @return its slot, or {@link #NO_SLOT}.
     */
    public int slotOf(final long vmId)
    {
        return (int)slotByVmId.get(vmId);
    }

    /**
     * The state of a vmId's entry. Agent thread only.
     *
     * @param vmId the VM's id.
     * @return its state, or {@link EntryState#FREE} if it is not in the schedule.
     */
    public int stateOf(final long vmId)
    {
        final int slot = (int)slotByVmId.get(vmId);
        return slot == NO_SLOT ? FREE : stateOfSlot(slot);
    }

    /**
     * Is a request on this vmId waiting for its slice to end? Agent thread only.
     *
     * @param vmId the VM's id.
     * @return true if a suspend, stop or delete is deferred.
     */
    public boolean isPending(final long vmId)
    {
        final int slot = (int)slotByVmId.get(vmId);
        return slot != NO_SLOT && requested[slot] != NONE;
    }

    private Transition requestStop(final long vmId, final int target, final String action)
    {
        final int slot = slotOrThrow(vmId, action);
        if (requested[slot] != NONE)
        {
            throw new ScheduleException("vm " + vmId + ": cannot " + action + " while its " +
                EntryState.name(requested[slot]) + " request waits for a slice to end");
        }
        final int state = stateOfSlot(slot);
        if (state == target)
        {
            return Transition.DONE;
        }
        if (state != RUNNABLE && state != RUNNING && !(state == SUSPENDED && target == MIGRATING_OUT))
        {
            throw new ScheduleException("vm " + vmId + ": cannot " + action + " from " + EntryState.name(state));
        }
        requested[slot] = target;
        return settle(slot) ? Transition.DONE : deferred(slot);
    }

    private Transition deferred(final int slot)
    {
        for (int i = 0; i < deferredCount; i++)
        {
            if (deferredSlots[i] == slot)
            {
                return Transition.DEFERRED;
            }
        }
        deferredSlots[deferredCount++] = slot;
        return Transition.DEFERRED;
    }

    /**
     * Try to bring a slot to the state the agent requested for it.
     * <p>
     * Invariant: the agent never stores a state over RUNNABLE or RUNNING; it wins a RUNNABLE slot
     * by CAS (as a worker would) or, for a RUNNING one, publishes the request in the pending field
     * with a volatile store and re-reads the state. That store/load pairs with the claimer's CAS and
     * pending load: either the claimer sees the request (and applies it without running the guest)
     * or the agent sees the slot RUNNABLE again and wins it by CAS.
     *
     * @return true when the slot has reached the requested state (and was freed, for a delete).
     */
    private boolean settle(final int slot)
    {
        final int target = requested[slot];
        if (target == NONE)
        {
            // Nothing requested: a deferred entry whose request another call already completed (a
            // delete of a slot whose suspend was deferred); the slot may hold a new entry by now.
            return true;
        }
        final int offset = slotOffset(slot);
        final int stateOffset = offset + STATE_OFFSET;
        int state = buffer.getIntVolatile(stateOffset);

        if (state == RUNNABLE && buffer.compareAndSetInt(stateOffset, RUNNABLE, SUSPENDED))
        {
            state = SUSPENDED; // ours now, agent-owned
        }
        else if (state == RUNNABLE || state == RUNNING)
        {
            buffer.putIntVolatile(offset + PENDING_OFFSET, target);
            state = buffer.getIntVolatile(stateOffset);
            if (state == RUNNING)
            {
                return false;
            }
            if (state == RUNNABLE)
            {
                if (!buffer.compareAndSetInt(stateOffset, RUNNABLE, SUSPENDED))
                {
                    return false; // a worker claimed it and will see the pending request
                }
                state = SUSPENDED;
            }
        }

        // The slot is in an agent-owned state: no worker touches it until it is RUNNABLE again.
        buffer.putInt(offset + PENDING_OFFSET, NONE);
        requested[slot] = NONE;
        if (target == DELETED)
        {
            free(slot, offset);
        }
        else if (state != target)
        {
            buffer.putIntRelease(stateOffset, target);
        }
        return true;
    }

    private void free(final int slot, final int offset)
    {
        final long vmId = buffer.getLong(offset + VM_ID_OFFSET);
        buffer.putIntRelease(offset + STATE_OFFSET, FREE);
        // A new generation tells readers (and holders of a slot+generation handle) that the entry is gone.
        buffer.putIntVolatile(offset + GENERATION_OFFSET, buffer.getInt(offset + GENERATION_OFFSET) + 1);
        VarHandle.storeStoreFence(); // the next insert's payload stores stay after the bump
        attachments[slot] = null;
        slotByVmId.remove(vmId);
        freeSlots[freeCount++] = slot;
        buffer.putIntRelease(LIVE_COUNT_OFFSET, --liveCount);
    }

    private int slotOrThrow(final long vmId, final String action)
    {
        final int slot = (int)slotByVmId.get(vmId);
        if (slot == NO_SLOT)
        {
            throw new ScheduleException("cannot " + action + " vm " + vmId + ": not in this schedule (capacity " +
                capacity + ", " + liveCount + " entries)");
        }
        return slot;
    }

    // ------------------------------------------------------------------------------------------
    // Workers: lock-free dispatch. Threadsafe; each worker has its own cursor.
    // ------------------------------------------------------------------------------------------

    /**
     * Claim the next RUNNABLE slot round the ring (RUNNABLE → RUNNING). The caller owns the slot's
     * payload until it calls {@link #release} or {@link #releaseFailed}. Allocates nothing.
     *
     * @param cursor the calling worker's own cursor.
     * @return the claimed slot, or {@link #NO_SLOT} if none could be claimed in one turn.
     */
    public int claimNext(final DispatchCursor cursor)
    {
        for (int scanned = 0; scanned < capacity; scanned++)
        {
            long position = cursor.position;
            if (position == cursor.limit)
            {
                position = UnsafeApi.getAndAddLong(null, cursorAddress, claimBatch);
                cursor.limit = position + claimBatch;
                cursor.turn = (int)(position >>> capacityShift);
            }
            cursor.position = position + 1;

            final int slot = (int)position & mask;
            final long address = slotsAddress + ((long)slot << SLOT_SHIFT);
            if (UnsafeApi.getIntVolatile(null, address) == RUNNABLE &&
                UnsafeApi.compareAndSetInt(null, address, RUNNABLE, RUNNING))
            {
                // The CAS makes this worker the slot's only owner: payload reads and writes below are safe.
                if (UnsafeApi.getIntVolatile(null, address + PENDING_OFFSET) != NONE)
                {
                    releaseState(address); // the agent asked for it to stop: hand it over unrun
                    continue;
                }
                final int turn = cursor.turn;
                final int missed = turn - UnsafeApi.getInt(null, address + SERVED_TURN_OFFSET) - 1;
                if (missed < 0)
                {
                    // racy, but benign: a stale batch (its worker was descheduled a whole turn) offers
                    // a slot already served this turn; put it back so no entry gets two turns' share.
                    releaseState(address);
                    continue;
                }
                UnsafeApi.putInt(null, address + SERVED_TURN_OFFSET, turn);
                if (missed > 0)
                {
                    catchUp(address, missed); // it was still running when earlier turns offered it
                }
                return slot;
            }
        }
        return NO_SLOT;
    }

    private void catchUp(final long address, final int missed)
    {
        // An entry whose position came round while it was still RUNNING lost that turn's offer: a long
        // slice, or a worker the OS descheduled while it held the slot (the other workers go on serving
        // turns meanwhile, for milliseconds under load). Grant every missed turn's quantum, so that
        // neither costs share; budgetNanos spreads a large credit over several slices.
        final long quantum = (long)UnsafeApi.getInt(null, address + WEIGHT_OFFSET) * quantumNanos;
        final long credit = UnsafeApi.getInt(null, address + CREDIT_OFFSET) + missed * quantum;
        UnsafeApi.putInt(null, address + CREDIT_OFFSET, (int)Math.min(credit, maxCredit(quantum)));
    }

    private static long maxCredit(final long quantum)
    {
        return Math.max(MAX_CREDIT_NANOS, (MAX_CATCH_UP_TURNS - 1) * quantum);
    }

    /**
     * CPU nanoseconds the claimed slot may run for in this slice: its weight times the quantum plus
     * the credit it carried, at least half that quantum (an entry in debt still runs every turn and
     * pays back half a quantum a turn) and at most {@link #MAX_CATCH_UP_TURNS} quanta (credit beyond
     * that waits for later turns). Only the claiming worker calls this.
     *
     * @param slot the claimed slot.
     * @return the slice's budget.
     */
    public long budgetNanos(final int slot)
    {
        final long address = slotAddress(slot);
        final long quantum = (long)UnsafeApi.getInt(null, address + WEIGHT_OFFSET) * quantumNanos;
        final long budget = quantum + UnsafeApi.getInt(null, address + CREDIT_OFFSET);
        return Math.max(quantum >> 1, Math.min(budget, MAX_CATCH_UP_TURNS * quantum));
    }

    /**
     * Account a slice and release the slot: RUNNING → RUNNABLE, or to the state the agent requested
     * while it ran. Only the claiming worker calls this. Allocates nothing.
     *
     * @param slot      the claimed slot.
     * @param cpuNanos  CPU time the slice used, as measured by the dispatcher.
     * @param ioBytes   I/O bytes the guest reported for the slice.
     * @param memBytes  memory the guest reported holding at the end of the slice.
     */
    public void release(final int slot, final long cpuNanos, final long ioBytes, final long memBytes)
    {
        final long address = slotAddress(slot);
        account(address, cpuNanos, ioBytes, memBytes);
        releaseState(address);
    }

    /**
     * Account a slice whose guest failed and take the slot out of dispatch: RUNNING → SUSPENDED (or
     * the state the agent requested). Only the claiming worker calls this.
     *
     * @param slot      the claimed slot.
     * @param cpuNanos  CPU time the slice used.
     */
    public void releaseFailed(final int slot, final long cpuNanos)
    {
        final long address = slotAddress(slot);
        account(address, cpuNanos, 0, UnsafeApi.getLong(null, address + MEM_BYTES_OFFSET));
        final int pending = UnsafeApi.getIntVolatile(null, address + PENDING_OFFSET);
        UnsafeApi.putIntRelease(null, address + STATE_OFFSET, pending != NONE ? pending : SUSPENDED);
    }

    private long slotAddress(final int slot)
    {
        return slotsAddress + ((long)(slot & mask) << SLOT_SHIFT);
    }

    private void account(final long address, final long cpuNanos, final long ioBytes, final long memBytes)
    {
        final long quantum = (long)UnsafeApi.getInt(null, address + WEIGHT_OFFSET) * quantumNanos;
        final long carried = UnsafeApi.getInt(null, address + CREDIT_OFFSET);
        // Deficit round robin: this turn's quantum less what the slice used; a slice cut short by the
        // OS descheduling its worker keeps what it did not get. A slice raises credit to at most
        // MAX_CATCH_UP_TURNS - 1 quanta, so an idle entry banks no more (credit owed for missed turns,
        // above that, is only spent). Debt is carried, not forgiven: thread CPU time read around one
        // slice is off by tens of microseconds, and after the worker was descheduled by up to a
        // millisecond (the error evens out over the following readings), more than half of a small
        // quantum; forgiving overruns past half a quantum gave weight 1 some 7 % more than its share.
        // An entry in debt still runs every turn, on half a quantum (see budgetNanos).
        final long bankBound = (MAX_CATCH_UP_TURNS - 1) * quantum;
        long credit = carried + quantum - cpuNanos;
        if (credit > bankBound)
        {
            credit = Math.max(bankBound, Math.min(credit, carried));
        }
        else if (credit < -maxCredit(quantum))
        {
            credit = -maxCredit(quantum);
        }
        UnsafeApi.putInt(null, address + CREDIT_OFFSET, (int)credit);
        UnsafeApi.putLong(null, address + CPU_NANOS_OFFSET, UnsafeApi.getLong(null, address + CPU_NANOS_OFFSET) + cpuNanos);
        UnsafeApi.putLong(null, address + SLICES_OFFSET, UnsafeApi.getLong(null, address + SLICES_OFFSET) + 1);
        if (ioBytes != 0)
        {
            UnsafeApi.putLong(null, address + IO_BYTES_OFFSET, UnsafeApi.getLong(null, address + IO_BYTES_OFFSET) + ioBytes);
        }
        UnsafeApi.putLong(null, address + MEM_BYTES_OFFSET, memBytes);
    }

    private static void releaseState(final long address)
    {
        // Read the request before the release store: a request the agent publishes after this read
        // finds the slot RUNNABLE again (agent CAS) or is seen by the next claimer.
        final int pending = UnsafeApi.getIntVolatile(null, address + PENDING_OFFSET);
        UnsafeApi.putIntRelease(null, address + STATE_OFFSET, pending != NONE ? pending : RUNNABLE);
    }

    /**
     * The attachment (guest) of a slot. Safe for the worker that claimed the slot, and for the agent.
     *
     * @param slot the slot.
     * @return the object given at insert.
     */
    public Object attachment(final int slot)
    {
        return attachments[slot];
    }

    // ------------------------------------------------------------------------------------------
    // Reads: any thread. Values are a racy view unless the caller owns the slot.
    // ------------------------------------------------------------------------------------------

    /**
     * @param slot the slot.
     * @return its state (acquire load).
     */
    public int stateOfSlot(final int slot)
    {
        return buffer.getIntVolatile(slotOffset(slot) + STATE_OFFSET);
    }

    /**
     * @param slot the slot.
     * @return its generation: bumped each time the slot is freed.
     */
    public int generation(final int slot)
    {
        return buffer.getIntVolatile(slotOffset(slot) + GENERATION_OFFSET);
    }

    /**
     * @param slot the slot.
     * @return the vmId of its entry (meaningful while not FREE).
     */
    public long vmId(final int slot)
    {
        return buffer.getLong(slotOffset(slot) + VM_ID_OFFSET);
    }

    /**
     * @param slot the slot.
     * @return the weight of its entry.
     */
    public int weight(final int slot)
    {
        return buffer.getInt(slotOffset(slot) + WEIGHT_OFFSET);
    }

    /**
     * @param slot the slot.
     * @return CPU nanoseconds its entry has used on this host.
     */
    public long cpuNanos(final int slot)
    {
        return buffer.getLongVolatile(slotOffset(slot) + CPU_NANOS_OFFSET);
    }

    /**
     * @param slot the slot.
     * @return slices its entry has run on this host.
     */
    public long slices(final int slot)
    {
        return buffer.getLongVolatile(slotOffset(slot) + SLICES_OFFSET);
    }

    /**
     * @param slot the slot.
     * @return I/O bytes its entry has reported on this host.
     */
    public long ioBytes(final int slot)
    {
        return buffer.getLongVolatile(slotOffset(slot) + IO_BYTES_OFFSET);
    }

    /**
     * @param slot the slot.
     * @return memory bytes its entry last reported.
     */
    public long memBytes(final int slot)
    {
        return buffer.getLongVolatile(slotOffset(slot) + MEM_BYTES_OFFSET);
    }

    /**
     * The turn of the ring the shared dispatch cursor is in.
     *
     * @return positions handed out divided by capacity (wraps at 2^31).
     */
    public int currentTurn()
    {
        return (int)(buffer.getLongVolatile(CURSOR_OFFSET) >>> capacityShift);
    }

    /**
     * Unmap the file of a mapped schedule; a direct buffer is left to the garbage collector. Call
     * only after every worker has stopped: claim and release use the buffer's raw address.
     */
    @Override
    public void close()
    {
        if (mapped != null)
        {
            IoUtil.unmap(mapped);
        }
    }
}
