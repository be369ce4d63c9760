package io.vmsched.tools;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.guest.PacedBurnerGuest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Renders the HTML report in headless Chromium and checks the charts are drawn: pixels of each host's
 * colour and of the CV line are on the screenshot. Without a Chromium on the PATH (Debian's
 * {@code chromium}, which {@code .ci/run} installs) the test is reported skipped with the reason.
 */
class ReportRenderTest
{
    static String chromium()
    {
        for (final String name : List.of("chromium", "chromium-browser", "google-chrome"))
        {
            for (final String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
            {
                if (Files.isExecutable(Path.of(dir, name)))
                {
                    return Path.of(dir, name).toString();
                }
            }
        }
        return null;
    }

    @Test
    void chromiumDrawsEveryHostsLoadAndTheCv(@TempDir final Path dir) throws Exception
    {
        final String chromium = chromium();
        Assumptions.assumeTrue(chromium != null, "no chromium on the PATH: install Debian's chromium package to " +
            "render the report (.ci/run does)");
        final ClusterConfig config = ClusterConfig.of(3, dir.resolve("data"));
        config.host.balancing = false;
        config.host.loadSnapshotPeriodNs = 20_000_000L;
        try (Cluster cluster = Cluster.start(config))
        {
            for (long vm = 0; vm < 6; vm++)
            {
                cluster.admit(0, vm, 1, new PacedBurnerGuest(0.05));
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (cluster.host(0).vmCount() < 6 || cluster.host(0).journalRecords() < 30)
            {
                assertTrue(System.nanoTime() - deadline < 0, "journal filling");
                LockSupport.parkNanos(5_000_000);
            }
            cluster.migrate(0, 1);
            cluster.migrate(1, 2);
            while (cluster.migrationsCommitted() < 2 || cluster.host(1).journalRecords() < 30)
            {
                assertTrue(System.nanoTime() - deadline < 0, "migrations");
                LockSupport.parkNanos(5_000_000);
            }
        }
        final History history = CrashJournalTest.verify(dir.resolve("data"));
        final Path html = dir.resolve("report.html");
        Files.writeString(html, Report.html(history, "render test"), StandardCharsets.UTF_8);
        final Path png = dir.resolve("report.png");
        final Process process = new ProcessBuilder(chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--hide-scrollbars", "--window-size=1000,1200", "--screenshot=" + png, html.toUri().toString())
            .redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();
        assertTrue(process.waitFor(90, TimeUnit.SECONDS), "chromium finished");
        assertTrue(Files.size(png) > 0, Files.readString(dir.resolve("chromium.log")));
        final BufferedImage image = ImageIO.read(png.toFile());
        for (int host = 0; host < 3; host++)
        {
            final int rgb = Integer.parseInt(Report.colour(host).substring(1), 16);
            assertTrue(count(image, rgb) > 40, "host " + host + "'s load line is drawn");
        }
        assertTrue(count(image, 0x333333) > 40, "the CV line is drawn");
    }

    private static int count(final BufferedImage image, final int rgb)
    {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++)
        {
            for (int x = 0; x < image.getWidth(); x++)
            {
                final int p = image.getRGB(x, y) & 0xFFFFFF;
                if (Math.abs((p >> 16) - (rgb >> 16)) < 12 && Math.abs(((p >> 8) & 0xFF) - ((rgb >> 8) & 0xFF)) < 12 &&
                    Math.abs((p & 0xFF) - (rgb & 0xFF)) < 12)
                {
                    n++;
                }
            }
        }
        return n;
    }
}
