package io.vmsched.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What survives a SIGKILL, from the caller's side: a child JVM admits, removes and migrates VMs and
 * prints every listener callback; it is killed at a random moment. After a restart, every VM whose
 * onAdmitted ran (and no remove was asked for) is there, every VM whose onRemoved ran is gone, and no
 * VM whose admission was refused or reported failed appears. {@code -Dvmsched.acked.trials=N} runs more.
 */
class AcknowledgedCrashTest
{
    private static final int HOSTS = 3;

    @Test
    void everyAcknowledgedCallSurvivesASigkillAndNothingRefusedAppears(@TempDir final Path dir) throws Exception
    {
        final int trials = Integer.getInteger("vmsched.acked.trials", 8);
        final SplittableRandom random = new SplittableRandom(Long.getLong("vmsched.acked.seed", 20261130L));
        long events = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            final Path data = dir.resolve("trial-" + trial);
            final int killAfter = random.nextInt(100, 4000); // callback lines before the kill
            final Process child = start(data, random.nextLong());
            final Map<Long, String> seen = new HashMap<>(); // per VM, the events printed
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8)))
            {
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                int lines = 0;
                String line;
                while (lines < killAfter && System.nanoTime() - deadline < 0 && (line = out.readLine()) != null)
                {
                    lines += record(line, seen);
                }
                child.toHandle().destroyForcibly(); // SIGKILL (Process.destroy would close the pipe we still read)
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "child exited");
                while ((line = out.readLine()) != null) // what it printed before it died: those callbacks ran
                {
                    lines += record(line, seen);
                }
                assertTrue(lines >= killAfter, "trial " + trial + ": the child made progress (" + lines + " lines)");
                events += lines;
            }
            finally
            {
                child.destroyForcibly();
            }
            final ClusterConfig config = ClusterTest.config(HOSTS, data);
            config.host.scheduleCapacity = 512;
            try (Cluster cluster = Cluster.start(config))
            {
                final Set<Long> present = cluster.placement().keySet();
                for (final Map.Entry<Long, String> e : seen.entrySet())
                {
                    final long vm = e.getKey();
                    final String what = e.getValue();
                    if (what.contains("R") || what.contains("F") || what.contains("X"))
                    {
                        assertFalse(present.contains(vm), "trial " + trial + ": vm " + vm + " (" + what + ") is there");
                    }
                    else if (what.contains("A") && !what.contains("D"))
                    {
                        assertTrue(present.contains(vm), "trial " + trial + ": admitted vm " + vm + " lost");
                    } // admitted and a remove asked (D printed before the call), no onRemoved yet: either way
                }
            }
        }
        System.out.printf("acknowledged-crash trials: %d, callbacks checked: %d%n", trials, events);
    }

    private static int record(final String line, final Map<Long, String> seen)
    {
        if (line.length() < 3 || line.charAt(1) != ' ' || "ARFXD".indexOf(line.charAt(0)) < 0)
        {
            return 0;
        }
        seen.merge(Long.parseLong(line.substring(2)), line.substring(0, 1), String::concat);
        return 1;
    }

    private static Process start(final Path data, final long seed) throws Exception
    {
        return ChildJvm.start(AcknowledgedChild.class, data.toString(), Integer.toString(HOSTS), Long.toString(seed));
    }
}
