package io.vmsched.cluster;

import io.vmsched.dispatch.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One owner per data directory, and a host the directory knew of is never read as empty.
 */
class DataDirectoryTest
{
    @BeforeEach
    @AfterEach
    void resetGuests()
    {
        TrackingGuest.reset();
    }

    @Test
    void aSecondClusterOnTheSameDirectoryIsRefusedWithTheOwnersPid(@TempDir final Path dir)
    {
        try (Cluster first = Cluster.start(ClusterTest.config(2, dir)))
        {
            first.admit(0, 1, 1, new TrackingGuest(1));
            final IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> Cluster.start(ClusterTest.config(2, dir)));
            assertEquals("data directory " + dir + " is in use by process " + ProcessHandle.current().pid() + " (lock " +
                dir.resolve(DataDirectory.LOCK_FILE) + "); stop it first, or use another directory", refused.getMessage());
            Await.until("vm 1 admitted", 10, () -> first.placement().size() == 1 && first.host(0).vmCount() == 1);
        }
        try (Cluster again = Cluster.start(ClusterTest.config(2, dir))) // released by close()
        {
            assertEquals(Map.of(1L, 0), again.placement());
        }
    }

    @Test
    void anotherProcessHoldingItIsNamedAndItsSigkillLeavesNoStaleLock(@TempDir final Path dir) throws Exception
    {
        final Process child = startChild(dir);
        try
        {
            final BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.equals("READY"))
            {
                // wait until it holds the directory
            }
            assertEquals("READY", line, "the child started its cluster");
            final IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> Cluster.start(ClusterTest.config(3, dir)));
            assertTrue(refused.getMessage().contains("is in use by process " + child.pid() + " "), refused.getMessage());
        }
        finally
        {
            child.toHandle().destroyForcibly(); // SIGKILL
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        }
        final ClusterConfig config = ClusterTest.config(3, dir);
        config.host.scheduleCapacity = 512;
        try (Cluster cluster = Cluster.start(config))
        {
            assertNotNull(cluster.placement(), "the OS released the dead owner's lock");
        }
    }

    @Test
    void aMissingHostDirectoryOrFewerHostsIsRefusedAndNothingChanges(@TempDir final Path dir) throws Exception
    {
        try (Cluster cluster = Cluster.start(ClusterTest.config(4, dir)))
        {
            for (int vm = 0; vm < 8; vm++)
            {
                cluster.admit(vm % 4, vm, 1, new TrackingGuest(vm));
            }
        }
        final ClusterConfig config = ClusterTest.config(4, dir);
        final Path host3 = config.journalDir(3);
        final Path aside = dir.resolve("aside");
        Files.move(host3, aside);
        final byte[] manifest = Files.readAllBytes(dir.resolve(DataDirectory.MANIFEST_FILE));
        final IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
            () -> Cluster.start(ClusterTest.config(4, dir)));
        assertEquals("host 3's journal directory " + host3 + " is missing (" + dir.resolve(DataDirectory.MANIFEST_FILE) +
            " records 4 hosts): its VMs would be lost; restore it", missing.getMessage());
        final IllegalArgumentException fewer = assertThrows(IllegalArgumentException.class,
            () -> Cluster.start(ClusterTest.config(3, dir)));
        assertTrue(fewer.getMessage().endsWith("records 4 hosts, but the cluster is started with 3: the VMs of host 3 " +
            "would be lost; start it with all its hosts"), fewer.getMessage());
        assertFalse(Files.exists(host3), "a refused start created nothing");
        assertArrayEquals(manifest, Files.readAllBytes(dir.resolve(DataDirectory.MANIFEST_FILE)));

        Files.move(aside, host3);
        try (Cluster cluster = Cluster.start(ClusterTest.config(4, dir)))
        {
            assertEquals(8, cluster.recoveredVms(), "every VM back once the directory is restored");
        }
    }

    private static Process startChild(final Path data) throws Exception
    {
        return ChildJvm.start(AcknowledgedChild.class, data.toString(), "3", "1");
    }
}
