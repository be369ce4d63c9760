package io.vmsched.cli;

import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.guest.MemoryHolderGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The journal tools show a host's balloon records: dump (text and JSON), timeline, stats, report. */
class JournalBalloonCommandTest extends CommandTest
{
    @Test
    void theToolsShowBalloonRequestsAndResults(@TempDir final Path base) throws Exception
    {
        final Path data = base.resolve("data");
        final ClusterConfig config = ClusterConfig.of(1, data);
        config.host.balancing = false;
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admit(0, 4, 1, new MemoryHolderGuest(1 << 20, 1 << 20, 0));
            assertEquals(BalloonResult.Outcome.MET,
                cluster.balloon(4, 1 << 20, 2).get(20, TimeUnit.SECONDS).outcome());
            assertEquals(BalloonResult.Outcome.REFUSED,
                cluster.balloon(4, -3, BalloonRequest.UNCHANGED).get(20, TimeUnit.SECONDS).outcome());
        }

        assertEquals(0, run("journal", "verify", data.toString()), err.toString() + out);
        assertTrue(out.toString().contains("0 lost, 0 duplicated"), out.toString());

        assertEquals(0, run("journal", "dump", data.toString(), "--type", "balloon_result"), err.toString());
        final String dump = out.toString();
        assertTrue(dump.contains("BALLOON_RESULT host=0 vm=4 request=1 memory=1048576 processors=2 MET"), dump);
        assertTrue(dump.contains("request=2 memory=-1 processors=2 REFUSED \"vm 4: a balloon's memory target must be " +
            "at least 0 bytes, got -3\""), dump);

        assertEquals(0, run("journal", "dump", data.toString(), "--type", "BALLOON_REQUESTED", "--json"), err.toString());
        final String json = out.toString();
        assertEquals(2, json.lines().count(), json);
        assertTrue(json.contains("\"request\":1,\"memoryBytes\":1048576,\"processors\":2"), json);

        assertEquals(0, run("journal", "timeline", data.toString(), "--vm", "4"), err.toString());
        final String timeline = out.toString();
        final int requested = timeline.indexOf("BALLOON_REQUESTED at host 0: request=1 memory=1048576 processors=2");
        final int result = timeline.indexOf("BALLOON_RESULT at host 0: request=1 memory=1048576 processors=2 MET");
        assertTrue(timeline.indexOf("ADMITTED at host 0") < requested && requested < result, timeline);

        assertEquals(0, run("journal", "stats", data.toString()), err.toString());
        final String stats = out.toString();
        assertTrue(stats.lines().anyMatch(l -> l.matches("\\s+2  requested")), stats);
        assertTrue(stats.lines().anyMatch(l -> l.matches("\\s+1  met")), stats);
        assertTrue(stats.lines().anyMatch(l -> l.matches("\\s+1  refused")), stats);

        final Path html = base.resolve("report.html");
        assertEquals(0, run("journal", "report", data.toString(), "--out", html.toString()), err.toString());
        assertTrue(Files.readString(html, StandardCharsets.UTF_8).contains("Balloon requests and results by outcome"));
    }
}
