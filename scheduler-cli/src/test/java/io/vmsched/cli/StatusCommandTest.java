package io.vmsched.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The demo with a constraints file, then {@code vmsched status} on what it left. */
class StatusCommandTest extends CommandTest
{
    @Test
    void theDemoKeepsTheRulesReportsTheServicesAndStatusReadsThemBackFromTheJournals(@TempDir final Path dir)
        throws IOException
    {
        final Path rules = dir.resolve("rules.txt");
        Files.writeString(rules, "# guests 0..11\nservice web size=3 min=2 vms=0,1,2\n" +
            "anti-affinity web-spread hard service=web\nservice db size=3 min=1 vms=3,4\naffinity db-pair soft vms=3,4\n");
        final Path data = dir.resolve("data");
        assertEquals(0, run("demo", "--duration", "4", "--hosts", "3", "--vms", "12", "--constraints", rules.toString(),
            "--data", data.toString()), err.toString());
        final String text = out.toString();
        assertTrue(text.contains("service web ") && text.contains("healthy"), "status changes are logged: " + text);
        assertTrue(text.contains("service db ") && text.contains("degraded: 2 VMs running of its size 3"),
            "a service below its size is reported: " + text);
        assertTrue(text.contains("holds   hard anti-affinity rule 'web-spread' over service web"), text);
        final Path run;
        try (Stream<Path> runs = Files.list(data))
        {
            run = runs.findFirst().orElseThrow();
        }

        out.getBuffer().setLength(0);
        assertEquals(0, run("status", "--data", run.toString()), err.toString());
        final String status = out.toString();
        assertTrue(status.startsWith("(no cluster runs on "), status);
        assertTrue(status.contains("service web              healthy  0/3 VMs (min 2)"), status);
        assertTrue(status.contains("(as last journaled)"), status);
        assertTrue(status.contains("holds   hard anti-affinity rule 'web-spread' over service web"), status);

        out.getBuffer().setLength(0);
        assertEquals(0, run("status", "--data", run.toString(), "--json"), err.toString());
        final String json = out.toString().strip();
        assertEquals(1, json.lines().count(), json);
        assertTrue(json.startsWith("{\"services\":[{\"name\":\"web\",\"size\":3,\"min\":2,\"status\":\"healthy\""), json);
        assertTrue(json.contains("{\"name\":\"web-spread\",\"rule\":\"anti-affinity web-spread hard service=web\",\"hard\":true,\"holds\":true,\"breaking\":[]}"), json);
    }

    @Test
    void onARunningClusterStatusShowsWhatItsProcessLastWrote(@TempDir final Path dir)
    {
        final io.vmsched.cluster.ClusterConfig config = io.vmsched.cluster.ClusterConfig.of(2, dir);
        config.host.balancing = false;
        try (io.vmsched.cluster.Cluster cluster = io.vmsched.cluster.Cluster.start(config))
        {
            cluster.defineService("solo", 1, 1);
            cluster.admit("solo", 7, 1, new io.vmsched.guest.IdleGuest());
            final long deadline = System.nanoTime() + 10_000_000_000L;
            while (cluster.status().services().get(0).health() != io.vmsched.placement.ServiceHealth.HEALTHY)
            {
                assertTrue(System.nanoTime() < deadline, "vm 7 running within 10 s");
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
            StatusFiles.write(dir, cluster.status());
            assertEquals(0, run("status", "--data", dir.toString()), err.toString());
            final String text = out.toString();
            assertFalse(text.contains("no cluster runs"), text);
            assertTrue(text.startsWith("service solo             healthy  1/1 VMs (min 1)  all 1 VMs running"), text);
            assertTrue(text.contains("vm 7        running"), text);
        }
    }

    @Test
    void mistakesAreOneLine(@TempDir final Path dir) throws IOException
    {
        final Path rules = dir.resolve("rules.txt");
        Files.writeString(rules, "service web size=2\nanti-affinity spread hard service=web vms=1,2\n");
        assertEquals(2, run("demo", "--constraints", rules.toString(), "--data", dir.resolve("d").toString()));
        assertEquals("vmsched demo: " + rules + ":2: rule spread: give service= or vms=, not both", err.toString().strip());
        assertFalse(Files.exists(dir.resolve("d")), "nothing ran");

        err.getBuffer().setLength(0);
        Files.writeString(rules, "service web size=5 vms=0,1,2,3,4\nanti-affinity spread hard service=web\n");
        assertEquals(2, run("demo", "--hosts", "3", "--vms", "8", "--duration", "1", "--constraints", rules.toString(),
            "--data", dir.resolve("e").toString()));
        assertEquals("vmsched demo: " + rules + ":2: hard anti-affinity rule spread over 5 VMs can never hold on 3 hosts",
            err.toString().strip());

        err.getBuffer().setLength(0);
        assertEquals(2, run("status", "--data", dir.toString()));
        assertEquals("vmsched status: " + dir + " holds no placement journal (" + dir.resolve("placement") +
            "): not a vmsched data directory, or one from before services", err.toString().strip());
    }
}
