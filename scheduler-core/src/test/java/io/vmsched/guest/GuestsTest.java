package io.vmsched.guest;

import io.vmsched.dispatch.Await;
import io.vmsched.dispatch.Dispatcher;
import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.*;

class GuestsTest
{
    @Test
    void guestsRunOnADispatcherAndReportTheirUsage(@TempDir final Path dir) throws Exception
    {
        final Schedule schedule = Schedule.allocate(8, 20_000, 1);
        final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        final Path file = dir.resolve("io.bin");
        final IoWriterGuest writer = new IoWriterGuest(file, 4096, 1 << 20);
        final MemoryHolderGuest holder = new MemoryHolderGuest(3 << 20);
        final CpuBurnerGuest burner = new CpuBurnerGuest(1.0);
        final CpuBurnerGuest idle = new CpuBurnerGuest(0.0);
        schedule.insert(1, 1, EntryState.RUNNABLE, writer);
        schedule.insert(2, 1, EntryState.RUNNABLE, holder);
        schedule.insert(3, 1, EntryState.RUNNABLE, burner);
        schedule.insert(4, 1, EntryState.RUNNABLE, idle);
        try (Dispatcher dispatcher = new Dispatcher(schedule, 2, Dispatcher::defaultIdleStrategy, errors::add).start())
        {
            Await.until("300 slices of the I/O writer (more than a file's worth)", 60,
                () -> schedule.slices(schedule.slotOf(1)) >= 300);
        }
        writer.close();
        assertTrue(errors.isEmpty(), () -> "errors: " + errors);

        final long writerSlices = schedule.slices(schedule.slotOf(1));
        assertEquals(writerSlices * 4096, schedule.ioBytes(schedule.slotOf(1)), "I/O bytes reported per slice");
        assertEquals(writerSlices * 4096, writer.written());
        assertEquals(1 << 20, Files.size(file), "the file is reused from its start at its size limit");

        assertEquals(3 << 20, schedule.memBytes(schedule.slotOf(2)), "memory held is reported");
        assertTrue(burner.work() > 0);
        assertEquals(0, idle.work(), "a 0% duty cycle burns nothing");
        assertTrue(schedule.cpuNanos(schedule.slotOf(3)) > schedule.cpuNanos(schedule.slotOf(4)),
            "the full-time burner used more CPU than the idle one");
    }

    @Test
    void snapshotsRestoreState(@TempDir final Path dir)
    {
        final CpuBurnerGuest burner = new CpuBurnerGuest(0.25);
        final CpuBurnerGuest burnerCopy = new CpuBurnerGuest(1.0);
        burnerCopy.restore(burner.snapshot());
        assertEquals(0.25, burnerCopy.dutyCycle());

        final MemoryHolderGuest holder = new MemoryHolderGuest(10_000);
        final MemoryHolderGuest holderCopy = new MemoryHolderGuest(0);
        holderCopy.restore(holder.snapshot());
        assertEquals(10_000, holderCopy.bytesHeld());

        final IoWriterGuest writer = new IoWriterGuest(dir.resolve("a.bin"), 100, 1000);
        final IoWriterGuest writerCopy = new IoWriterGuest(dir.resolve("b.bin"), 100, 1000);
        writerCopy.restore(writer.snapshot());
        assertEquals(writer.written(), writerCopy.written());
        writer.close();
        writerCopy.close();

        assertThrows(IllegalArgumentException.class, () -> burnerCopy.restore(holder.snapshot()));
        assertThrows(IllegalArgumentException.class, () -> holderCopy.restore(burner.snapshot()));
        assertThrows(IllegalArgumentException.class, () -> writerCopy.restore(new byte[3]));
    }

    @Test
    void badParametersAreRejected(@TempDir final Path dir)
    {
        assertThrows(IllegalArgumentException.class, () -> new CpuBurnerGuest(1.5));
        assertThrows(IllegalArgumentException.class, () -> new CpuBurnerGuest(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new MemoryHolderGuest(-1));
        assertThrows(IllegalArgumentException.class, () -> new IoWriterGuest(dir.resolve("x"), 0, 10));
        assertThrows(IllegalArgumentException.class, () -> new IoWriterGuest(dir.resolve("x"), 100, 10));
    }
}
