package io.vmsched.tools;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The journals a SIGKILL leaves behind verify: a child JVM migrating constantly is killed after a
 * random number of commits; the raw journals must show no VM lost or duplicated (a handoff cut short
 * is resolved by its commit point, as recovery would), and after a recovery nothing is left in doubt.
 */
class CrashJournalTest
{
    static History verify(final Path dir)
    {
        final History history = new History();
        try (JournalSet set = JournalSet.open(dir))
        {
            set.forEach(history::onRecord);
        }
        return history.finish();
    }

    @Test
    void theJournalsOfAKilledClusterVerifyBeforeAndAfterRecovery(@TempDir final Path dir) throws Exception
    {
        final int trials = Integer.getInteger("vmsched.crash.journal.trials", 6);
        final SplittableRandom random = new SplittableRandom(11);
        long inDoubt = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            final Path data = dir.resolve("t" + trial);
            final List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            try (InputStream in = CrashJournalTest.class.getResourceAsStream("/META-INF/vmsched/jvm.options"))
            {
                command.addAll(Arrays.asList(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+")));
            }
            command.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                CrashWriter.class.getName(), data.toString(), Long.toString(random.nextLong())));
            final Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            final int killAfter = 10 * (1 + random.nextInt(8));
            // bounded: a child still running after 120 s is killed, which ends the read below
            java.util.concurrent.CompletableFuture.delayedExecutor(120, TimeUnit.SECONDS).execute(child::destroyForcibly);
            try
            {
                final BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
                String line;
                while ((line = out.readLine()) != null)
                {
                    assertTrue(line.startsWith("committed "), line);
                    if (Long.parseLong(line.substring("committed ".length())) >= killAfter)
                    {
                        break;
                    }
                }
                assertNotNull(line, "the child died, or did not reach " + killAfter + " commits within 120 s");
            }
            finally
            {
                child.destroyForcibly(); // SIGKILL
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            }
            final History raw = verify(data);
            assertNull(raw.violation(), "trial " + trial + ": " + raw.violation());
            assertEquals(9, raw.owners().size(), "trial " + trial + ": " + raw.summary());
            assertTrue(raw.migrationsCommitted() >= killAfter, raw.summary());
            inDoubt += raw.inDoubt();

            final ClusterConfig config = ClusterConfig.of(3, data);
            config.host.balancing = false;
            try (Cluster cluster = Cluster.start(config))
            {
                assertEquals(raw.owners(), cluster.placement(), "recovery agrees with the commit points");
            }
            final History recovered = verify(data);
            assertNull(recovered.violation(), recovered.violation());
            assertEquals(0, recovered.inDoubt(), recovered.summary());
            assertEquals(raw.inDoubt(), recovered.resolvedByRecovery() - resolvedBefore(raw), recovered.summary());
        }
        System.out.println("crash journals: " + trials + " trials verified; " + inDoubt + " handoffs in doubt at the kills");
    }

    private static long resolvedBefore(final History history)
    {
        return history.resolvedByRecovery();
    }
}
