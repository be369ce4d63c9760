package io.vmsched.schedule;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.vmsched.schedule.EntryState.*;
import static io.vmsched.schedule.Schedule.NO_SLOT;
import static org.junit.jupiter.api.Assertions.*;

class ScheduleTest
{
    private final Schedule schedule = Schedule.allocate(8, 1_000, 1);
    private final DispatchCursor cursor = new DispatchCursor();

    @Test
    void insertPublishesRunnableEntry()
    {
        final int slot = schedule.insert(42, 3, RUNNABLE, "guest");
        assertEquals(RUNNABLE, schedule.stateOfSlot(slot));
        assertEquals(42, schedule.vmId(slot));
        assertEquals(3, schedule.weight(slot));
        assertEquals("guest", schedule.attachment(slot));
        assertTrue(schedule.contains(42));
        assertEquals(slot, schedule.slotOf(42));
        assertEquals(1, schedule.size());
        assertEquals(NO_SLOT, schedule.slotOf(43));
        assertEquals(FREE, schedule.stateOf(43));
    }

    @Test
    void duplicateInsertNamesVmIdAndCapacity()
    {
        schedule.insert(42, 1, RUNNABLE, null);
        final ScheduleException ex = assertThrows(ScheduleException.class,
            () -> schedule.insert(42, 1, RUNNABLE, null));
        assertTrue(ex.getMessage().contains("vm 42"), ex.getMessage());
        assertTrue(ex.getMessage().contains("capacity 8"), ex.getMessage());
        assertEquals(1, schedule.size());
    }

    @Test
    void insertIntoFullScheduleNamesVmIdAndCapacity()
    {
        for (int i = 0; i < 8; i++)
        {
            schedule.insert(i, 1, RUNNABLE, null);
        }
        final ScheduleException ex = assertThrows(ScheduleException.class,
            () -> schedule.insert(99, 1, RUNNABLE, null));
        assertTrue(ex.getMessage().contains("vm 99"), ex.getMessage());
        assertTrue(ex.getMessage().contains("all 8 slots"), ex.getMessage());
    }

    @Test
    void rejectsBadWeightStateAndCapacity()
    {
        assertThrows(IllegalArgumentException.class, () -> schedule.insert(1, 0, RUNNABLE, null));
        assertThrows(IllegalArgumentException.class, () -> schedule.insert(1, Schedule.MAX_WEIGHT + 1, RUNNABLE, null));
        assertThrows(IllegalArgumentException.class, () -> schedule.insert(1, 1, RUNNING, null));
        assertThrows(IllegalArgumentException.class, () -> schedule.insert(1, 1, FREE, null));
        assertThrows(IllegalArgumentException.class, () -> Schedule.allocate(12));
        assertThrows(IllegalArgumentException.class, () -> Schedule.allocate(0));
        assertThrows(IllegalArgumentException.class, () -> Schedule.allocate(8, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Schedule.allocate(8, 1, 3));
        assertEquals(0, schedule.size());
    }

    @Test
    void unknownVmIdIsNamed()
    {
        final ScheduleException ex = assertThrows(ScheduleException.class, () -> schedule.delete(7));
        assertTrue(ex.getMessage().contains("vm 7"), ex.getMessage());
        assertThrows(ScheduleException.class, () -> schedule.suspend(7));
        assertThrows(ScheduleException.class, () -> schedule.resume(7));
        assertThrows(ScheduleException.class, () -> schedule.stopForMigration(7));
    }

    @Test
    void claimMovesRunnableToRunningAndReleaseBack()
    {
        final int slot = schedule.insert(1, 2, RUNNABLE, null);
        assertEquals(slot, schedule.claimNext(cursor));
        assertEquals(RUNNING, schedule.stateOfSlot(slot));
        assertEquals(NO_SLOT, schedule.claimNext(new DispatchCursor()), "a running slot is not claimed twice");

        schedule.release(slot, 1_500, 100, 4096);
        assertEquals(RUNNABLE, schedule.stateOfSlot(slot));
        assertEquals(1_500, schedule.cpuNanos(slot));
        assertEquals(1, schedule.slices(slot));
        assertEquals(100, schedule.ioBytes(slot));
        assertEquals(4096, schedule.memBytes(slot));
    }

    @Test
    void claimOnEmptyScheduleFindsNothing()
    {
        assertEquals(NO_SLOT, schedule.claimNext(cursor));
        schedule.insert(1, 1, SUSPENDED, null);
        schedule.insert(2, 1, MIGRATING_IN, null);
        assertEquals(NO_SLOT, schedule.claimNext(cursor), "only RUNNABLE entries are dispatched");
    }

    @Test
    void budgetCarriesCreditWithinBounds()
    {
        final int slot = schedule.insert(1, 2, RUNNABLE, null); // quantum 2 x 1000 ns
        assertEquals(slot, schedule.claimNext(cursor));
        assertEquals(2_000, schedule.budgetNanos(slot));
        schedule.release(slot, 500, 0, 0); // under-ran by 1500
        assertEquals(slot, schedule.claimNext(cursor));
        assertEquals(3_500, schedule.budgetNanos(slot));
        schedule.release(slot, 100, 0, 0); // carries 3400
        assertEquals(slot, schedule.claimNext(cursor));
        assertEquals(5_400, schedule.budgetNanos(slot));
        for (int i = 0; i < 40; i++)
        {
            schedule.release(slot, 0, 0, 0); // an idle entry banks at most the catch-up turns' quanta
            assertEquals(slot, schedule.claimNext(cursor));
        }
        assertEquals(Schedule.MAX_CATCH_UP_TURNS * 2_000, schedule.budgetNanos(slot));
        schedule.release(slot, 100_000, 0, 0); // overran by 68,000: carried as debt, not forgiven
        assertEquals(slot, schedule.claimNext(cursor));
        int halfSlices = 0;
        while (schedule.budgetNanos(slot) == 1_000) // runs every turn, on half a quantum
        {
            halfSlices++;
            schedule.release(slot, 1_000, 0, 0);
            assertEquals(slot, schedule.claimNext(cursor));
        }
        assertEquals(68, halfSlices, "a debt of 68,000 is paid back at 1,000 a turn");
        assertEquals(2_000, schedule.budgetNanos(slot));
        schedule.release(slot, 2_000, 0, 0);
    }

    @Test
    void turnsMissedWhileRunningAreOwedInFullAndSpentAtMostSixteenQuantaASlice()
    {
        final int slot = schedule.insert(1, 1, RUNNABLE, null); // quantum 1000 ns
        assertEquals(slot, schedule.claimNext(cursor));
        assertEquals(1_000, schedule.budgetNanos(slot));
        // Its worker is descheduled while it holds the slot; another worker goes on turning the ring.
        final DispatchCursor other = new DispatchCursor();
        for (int i = 0; i < 40; i++)
        {
            assertEquals(NO_SLOT, schedule.claimNext(other), "held by the descheduled worker");
        }
        schedule.release(slot, 1_000, 0, 0);

        assertEquals(slot, schedule.claimNext(other));
        final int missed = other.turn() - 1;
        assertTrue(missed > Schedule.MAX_CATCH_UP_TURNS, "missed " + missed);
        long granted = 0;
        int slices = 0;
        do
        {
            final long budget = schedule.budgetNanos(slot);
            assertTrue(budget <= Schedule.MAX_CATCH_UP_TURNS * 1_000L, "budget " + budget);
            granted += budget;
            slices++;
            schedule.release(slot, budget, 0, 0);
            assertEquals(slot, schedule.claimNext(other));
        }
        while (schedule.budgetNanos(slot) > 1_000);
        // every missed turn is paid back (none lost to a cap), plus a quantum for each turn served
        assertEquals((missed + slices) * 1_000L, granted);
        assertTrue(slices > 2, "spread over " + slices + " slices");
    }

    @Test
    void creditOwedBeforeAStopDoesNotOutlastItBeyondTheIdleBank()
    {
        final int slot = schedule.insert(1, 1, RUNNABLE, null); // quantum 1000 ns
        assertEquals(slot, schedule.claimNext(cursor));
        final DispatchCursor other = new DispatchCursor();
        for (int i = 0; i < 40; i++)
        {
            assertEquals(NO_SLOT, schedule.claimNext(other), "held by the descheduled worker");
        }
        schedule.release(slot, 1_000, 0, 0);
        assertEquals(slot, schedule.claimNext(other));
        schedule.release(slot, 0, 0, 0); // owed some 40 turns now

        assertEquals(Schedule.Transition.DONE, schedule.suspend(1));
        schedule.resume(1);
        assertEquals(slot, schedule.claimNext(other));
        long carried = 0;
        do
        {
            final long budget = schedule.budgetNanos(slot);
            carried += budget - 1_000;
            schedule.release(slot, budget, 0, 0);
            assertEquals(slot, schedule.claimNext(other));
        }
        while (schedule.budgetNanos(slot) > 1_000);
        // the idle bank of 15 quanta, and at most the turn the claim after the resume may count as missed
        assertTrue(carried <= (Schedule.MAX_CATCH_UP_TURNS - 1 + 1) * 1_000L, "carried " + carried);
        schedule.release(slot, 1_000, 0, 0);
    }

    @Test
    void deleteOfRunnableFreesAtOnceAndBumpsGeneration()
    {
        final int slot = schedule.insert(5, 1, RUNNABLE, "g");
        final int generation = schedule.generation(slot);
        assertEquals(Schedule.Transition.DONE, schedule.delete(5));
        assertEquals(FREE, schedule.stateOfSlot(slot));
        assertEquals(generation + 1, schedule.generation(slot));
        assertNull(schedule.attachment(slot));
        assertFalse(schedule.contains(5));
        assertEquals(0, schedule.size());
        assertEquals(NO_SLOT, schedule.claimNext(cursor));
    }

    @Test
    void deleteOfRunningIsDeferredUntilTheSliceEnds()
    {
        final int slot = schedule.insert(5, 1, RUNNABLE, null);
        assertEquals(slot, schedule.claimNext(cursor));

        assertEquals(Schedule.Transition.DEFERRED, schedule.delete(5));
        assertEquals(RUNNING, schedule.stateOfSlot(slot));
        assertTrue(schedule.contains(5), "the vmId stays reserved until the slice ends");
        assertTrue(schedule.isPending(5));
        final ScheduleException dup = assertThrows(ScheduleException.class, () -> schedule.insert(5, 1, RUNNABLE, null));
        assertTrue(dup.getMessage().contains("being deleted"), dup.getMessage());
        assertEquals(0, schedule.reclaim());

        schedule.release(slot, 10, 0, 0);
        assertEquals(DELETED, schedule.stateOfSlot(slot), "the worker hands the slot over, it does not free it");
        assertEquals(NO_SLOT, schedule.claimNext(cursor), "a deleted entry is never dispatched again");

        assertEquals(1, schedule.reclaim());
        assertEquals(FREE, schedule.stateOfSlot(slot));
        assertFalse(schedule.contains(5));
        assertEquals(0, schedule.deferredCount());
        schedule.insert(5, 1, RUNNABLE, null);
    }

    @Test
    void insertOfAVmIdWhoseDeferredDeleteEndedReclaimsFirst()
    {
        final int slot = schedule.insert(5, 1, RUNNABLE, null);
        assertEquals(slot, schedule.claimNext(cursor));
        schedule.delete(5);
        schedule.release(slot, 10, 0, 0);
        schedule.insert(5, 1, RUNNABLE, null); // no explicit reclaim
        assertEquals(1, schedule.size());
    }

    @Test
    void fullScheduleReclaimsDeferredDeletesBeforeRefusing()
    {
        for (int i = 0; i < 8; i++)
        {
            schedule.insert(i, 1, RUNNABLE, null);
        }
        final int slot = schedule.claimNext(cursor);
        schedule.delete(schedule.vmId(slot));
        assertThrows(ScheduleException.class, () -> schedule.insert(100, 1, RUNNABLE, null));
        schedule.release(slot, 1, 0, 0);
        schedule.insert(100, 1, RUNNABLE, null);
        assertEquals(8, schedule.size());
    }

    @Test
    void suspendAndResume()
    {
        final int slot = schedule.insert(9, 1, RUNNABLE, null);
        assertEquals(Schedule.Transition.DONE, schedule.suspend(9));
        assertEquals(SUSPENDED, schedule.stateOfSlot(slot));
        assertEquals(NO_SLOT, schedule.claimNext(cursor), "a suspended entry is not dispatched");
        assertEquals(Schedule.Transition.DONE, schedule.suspend(9), "suspending twice is a no-op");
        schedule.resume(9);
        assertEquals(RUNNABLE, schedule.stateOfSlot(slot));
        assertEquals(slot, schedule.claimNext(cursor));
        assertThrows(ScheduleException.class, () -> schedule.resume(9), "cannot resume a running entry");
    }

    @Test
    void suspendOfRunningIsAppliedByTheReleasingWorker()
    {
        final int slot = schedule.insert(9, 1, RUNNABLE, null);
        assertEquals(slot, schedule.claimNext(cursor));
        assertEquals(Schedule.Transition.DEFERRED, schedule.suspend(9));
        assertThrows(ScheduleException.class, () -> schedule.resume(9), "resume waits for the slice");
        assertThrows(ScheduleException.class, () -> schedule.stopForMigration(9));
        schedule.release(slot, 1, 0, 0);
        assertEquals(SUSPENDED, schedule.stateOfSlot(slot));
        assertEquals(1, schedule.reclaim());
        assertFalse(schedule.isPending(9));
        schedule.resume(9);
        assertEquals(slot, schedule.claimNext(cursor));
    }

    @Test
    void deleteOverridesAPendingSuspend()
    {
        final int slot = schedule.insert(9, 1, RUNNABLE, null);
        assertEquals(slot, schedule.claimNext(cursor));
        assertEquals(Schedule.Transition.DEFERRED, schedule.suspend(9));
        assertEquals(Schedule.Transition.DEFERRED, schedule.delete(9));
        schedule.release(slot, 1, 0, 0);
        assertEquals(1, schedule.reclaim());
        assertFalse(schedule.contains(9));
        assertEquals(FREE, schedule.stateOfSlot(slot));
    }

    @Test
    void aDeferredSuspendCompletedByADeleteDoesNotTouchTheNextEntryInItsSlot()
    {
        // Found in review: the slot stayed on the deferred list after the delete freed it, and the
        // next reclaim() "completed" a request of NONE on the new entry, storing FREE over it.
        final int slot = schedule.insert(1, 1, RUNNABLE, null);
        assertEquals(slot, schedule.claimNext(cursor));
        assertEquals(Schedule.Transition.DEFERRED, schedule.suspend(1));
        schedule.release(slot, 1, 0, 0); // the worker applies the suspend
        assertEquals(Schedule.Transition.DONE, schedule.delete(1)); // completes without reclaim()
        final int reused = schedule.insert(2, 1, RUNNABLE, null);
        assertEquals(slot, reused, "the free list hands the slot back");
        schedule.reclaim();
        assertEquals(RUNNABLE, schedule.stateOfSlot(reused), "the new entry is untouched");
        assertEquals(0, schedule.deferredCount());
        assertEquals(reused, schedule.claimNext(cursor), "and still dispatched");
        schedule.release(reused, 1, 0, 0);
        assertEquals(Schedule.Transition.DONE, schedule.suspend(2));
        schedule.reclaim();
        assertEquals(SUSPENDED, schedule.stateOf(2));
    }

    @Test
    void migrationOutThenAbortOrCommit()
    {
        final int a = schedule.insert(1, 1, RUNNABLE, null);
        final int b = schedule.insert(2, 1, SUSPENDED, null);
        assertEquals(Schedule.Transition.DONE, schedule.stopForMigration(1));
        assertEquals(Schedule.Transition.DONE, schedule.stopForMigration(2));
        assertEquals(MIGRATING_OUT, schedule.stateOfSlot(a));
        assertEquals(MIGRATING_OUT, schedule.stateOfSlot(b));
        assertEquals(NO_SLOT, schedule.claimNext(cursor));

        schedule.resume(1); // abort: runs on here
        assertEquals(RUNNABLE, schedule.stateOfSlot(a));
        assertEquals(Schedule.Transition.DONE, schedule.delete(2)); // commit: gone from here
        assertFalse(schedule.contains(2));
    }

    @Test
    void stopForMigrationOfRunningWaitsForTheSlice()
    {
        final int slot = schedule.insert(1, 1, RUNNABLE, null);
        assertEquals(slot, schedule.claimNext(cursor));
        assertEquals(Schedule.Transition.DEFERRED, schedule.stopForMigration(1));
        assertEquals(RUNNING, schedule.stateOfSlot(slot));
        schedule.release(slot, 1, 0, 0);
        assertEquals(MIGRATING_OUT, schedule.stateOfSlot(slot));
        assertEquals(1, schedule.reclaim());
        assertEquals(MIGRATING_OUT, schedule.stateOf(1));
    }

    @Test
    void migratingInIsActivatedByResume()
    {
        final int slot = schedule.insert(1, 1, MIGRATING_IN, null);
        assertEquals(NO_SLOT, schedule.claimNext(cursor));
        schedule.resume(1);
        assertEquals(slot, schedule.claimNext(cursor));
    }

    @Test
    void claimerAppliesAPendingRequestWithoutRunning()
    {
        // The race this covers: the worker released the slot (RUNNABLE) just before the agent
        // published its request; the next claimer must hand it over rather than run it.
        final int slot = schedule.insert(1, 1, RUNNABLE, null);
        schedule.buffer().putIntVolatile(ScheduleDescriptor.slotOffset(slot) + ScheduleDescriptor.PENDING_OFFSET, SUSPENDED);
        assertEquals(NO_SLOT, schedule.claimNext(cursor));
        assertEquals(SUSPENDED, schedule.stateOfSlot(slot));
    }

    @Test
    void failedSliceSuspendsTheEntry()
    {
        final int slot = schedule.insert(1, 1, RUNNABLE, null);
        assertEquals(slot, schedule.claimNext(cursor));
        schedule.releaseFailed(slot, 77);
        assertEquals(SUSPENDED, schedule.stateOfSlot(slot));
        assertEquals(77, schedule.cpuNanos(slot));
    }

    @Test
    void eachEntryIsOfferedOncePerTurnEvenToAStaleBatch()
    {
        final Schedule ring = Schedule.allocate(16, 1_000, 4); // batch 4: four batches per turn
        for (int i = 0; i < 16; i++)
        {
            ring.insert(i, 1, RUNNABLE, null);
        }
        final DispatchCursor stale = new DispatchCursor();
        final int first = ring.claimNext(stale); // takes positions 0..3 of turn 0
        assertEquals(0, first);
        ring.release(first, 1, 0, 0);

        final DispatchCursor other = new DispatchCursor();
        for (int i = 0; i < 12 + 16; i++) // the rest of turn 0 and all of turn 1
        {
            final int slot = ring.claimNext(other);
            assertNotEquals(NO_SLOT, slot);
            ring.release(slot, 1, 0, 0);
        }
        assertEquals(1, other.turn());

        // Slots 1..3 were served in turn 1 already: the stale turn-0 batch must skip them.
        final int next = ring.claimNext(stale);
        assertEquals(0, next, "the stale batch is skipped and slot 0 is offered in turn 2");
        assertEquals(2, stale.turn());
        for (int slot = 1; slot < 4; slot++)
        {
            // held by the stale batch in turn 0, served in turn 1, not served again by the stale batch
            assertEquals(1, ring.slices(slot), "slot " + slot + " ran once per turn");
        }
    }

    @Test
    void roundRobinServesEveryEntryOncePerTurn()
    {
        final Schedule ring = Schedule.allocate(64, 1_000, 16);
        final List<Integer> slots = new ArrayList<>();
        for (int i = 0; i < 40; i++)
        {
            slots.add(ring.insert(1000 + i, 1 + (i % 3), RUNNABLE, null));
        }
        for (int turn = 0; turn < 5; turn++)
        {
            for (int i = 0; i < 40; i++)
            {
                final int slot = ring.claimNext(cursor);
                assertEquals(slots.get(i), slot);
                ring.release(slot, 1, 0, 0);
            }
        }
        for (final int slot : slots)
        {
            assertEquals(5, ring.slices(slot));
        }
    }

    @Test
    void bufferMustBeOffHeapAndLargeEnough()
    {
        assertThrows(IllegalArgumentException.class,
            () -> new Schedule(new UnsafeBuffer(ByteBuffer.allocateDirect(128)), 8, 1_000, 1));
        assertThrows(IllegalArgumentException.class,
            () -> new Schedule(new UnsafeBuffer(new byte[ScheduleDescriptor.bufferLength(8)]), 8, 1_000, 1));
        final Schedule wrapped = new Schedule(
            new UnsafeBuffer(ByteBuffer.allocateDirect(ScheduleDescriptor.bufferLength(8))), 8, 1_000, 1);
        wrapped.insert(1, 1, RUNNABLE, null);
        assertEquals(0, wrapped.claimNext(cursor));
    }

    @Test
    void mappedScheduleIsReadLiveByAReader(@TempDir final Path dir)
    {
        final Path file = dir.resolve("schedule.dat");
        try (Schedule mapped = Schedule.mapNew(file, 16, 1_000, 4);
            ScheduleReader reader = ScheduleReader.open(file))
        {
            final int a = mapped.insert(11, 2, RUNNABLE, null);
            mapped.insert(12, 1, SUSPENDED, null);
            final DispatchCursor c = new DispatchCursor();
            assertEquals(a, mapped.claimNext(c));
            mapped.release(a, 5_000, 7, 99);

            assertEquals(16, reader.capacity());
            assertEquals(2, reader.liveCount());
            assertEquals(ProcessHandle.current().pid(), reader.ownerPid());
            final List<String> seen = new ArrayList<>();
            final int count = reader.forEach(new EntrySnapshot(), e -> seen.add(
                e.vmId() + ":" + EntryState.name(e.state()) + ":" + e.weight() + ":" + e.cpuNanos() + ":" +
                e.slices() + ":" + e.ioBytes() + ":" + e.memBytes()));
            assertEquals(2, count);
            assertEquals(List.of("11:RUNNABLE:2:5000:1:7:99", "12:SUSPENDED:1:0:0:0:0"), seen);

            mapped.delete(11);
            assertEquals(1, reader.liveCount());
            assertFalse(reader.read(a, new EntrySnapshot()));
        }
    }

    @Test
    void readerRejectsWhatIsNotASchedule(@TempDir final Path dir) throws Exception
    {
        final Path missing = dir.resolve("nope.dat");
        final IllegalStateException none = assertThrows(IllegalStateException.class, () -> ScheduleReader.open(missing));
        assertTrue(none.getMessage().contains(missing.toString()), none.getMessage());

        final Path junk = dir.resolve("junk.dat");
        Files.write(junk, new byte[4096]);
        final IllegalStateException bad = assertThrows(IllegalStateException.class, () -> ScheduleReader.open(junk));
        assertTrue(bad.getMessage().contains("not a vmsched schedule"), bad.getMessage());
        assertTrue(bad.getMessage().contains(junk.toString()), bad.getMessage());
    }
}
