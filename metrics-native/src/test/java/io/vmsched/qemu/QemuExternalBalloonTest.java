package io.vmsched.qemu;

import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.balloon.BalloonResult.Outcome;
import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.journal.BalloonRecord;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.RecordType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A cluster asks a real QEMU VM's balloon through {@link QemuBalloonDriver}, the driver its HostConfig gives each
 * external VM (skipped, with the reason, where {@code qemu-system-x86_64} is missing). With no guest OS nothing
 * gives pages back: the request ends REFUSED with QEMU's side of the story, journaled like any balloon request.
 */
@Timeout(120)
class QemuExternalBalloonTest
{
    private static final long MIB = 1 << 20;

    @Test
    void theClusterAsksAnExternalQemuVmsBalloonThroughItsDriver(@TempDir final Path dir) throws Exception
    {
        final String binary = QemuVm.binary();
        Assumptions.assumeTrue(binary != null, QemuVm.MISSING);
        final Map<String, QemuBalloonDriver> opened = new ConcurrentHashMap<>();
        final ClusterConfig config = ClusterConfig.of(1, dir.resolve("data"));
        config.host.balancing = false;
        config.host.balloonTimeoutNs = 30_000_000_000L;
        try (QemuVm vm = QemuVm.start(binary, dir, "vm", true))
        {
            config.host.externalBalloons = (vmId, name, pid) ->
            {
                final QemuBalloonDriver driver =
                    new QemuBalloonDriver(vm.socket, Duration.ofSeconds(5), Duration.ofMillis(20), Duration.ofMillis(300));
                opened.put(name, driver);
                return driver;
            };
            try (Cluster cluster = Cluster.start(config))
            {
                cluster.admitExternal(0, 9, "qemu-vm", vm.process.pid());
                final BalloonResult result = cluster.balloon(9, 32 * MIB, BalloonRequest.UNCHANGED).get(60, TimeUnit.SECONDS);
                assertEquals(Outcome.REFUSED, result.outcome(), result::toString);
                assertEquals(64 * MIB, result.memoryBytes(), "QEMU's query-balloon: the VM still holds its 64 MiB");
                assertEquals("the guest gave 0 of 32 MiB in 300 ms: no guest balloon driver answering", result.reason());
                assertTrue(opened.containsKey("qemu-vm"), opened::toString);
                assertTrue(vm.process.isAlive(), "the VM runs on");
            }
        }
        final List<String> records = new ArrayList<>();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(config.journalDir(0), 0))
        {
            final BalloonRecord balloon = new BalloonRecord();
            journal.replay((index, record) ->
            {
                if (record.type() == RecordType.BALLOON_REQUESTED || record.type() == RecordType.BALLOON_RESULT)
                {
                    balloon.wrap(record);
                    records.add(record.type() + " " + balloon.memoryBytes() + " " + balloon.outcome());
                }
            });
        }
        assertEquals(List.of("BALLOON_REQUESTED 33554432 null", "BALLOON_RESULT 67108864 REFUSED"), records);
    }
}
