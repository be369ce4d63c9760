package io.vmsched.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** {@code vmsched inventory} on what a demo run journaled: the table, its JSON, a forecast, and the mistakes. */
class InventoryCommandTest extends CommandTest
{
    @Test
    void theInventoryOfADemoRunAndItsForecast(@TempDir final Path dir) throws IOException
    {
        final Path data = dir.resolve("data");
        assertEquals(0, run("demo", "--duration", "4", "--hosts", "3", "--vms", "9", "--data", data.toString()),
            err.toString());
        final Path run;
        try (Stream<Path> runs = Files.list(data))
        {
            run = runs.findFirst().orElseThrow();
        }

        assertEquals(0, run("inventory", "--data", run.toString()), err.toString());
        final String text = out.toString();
        assertTrue(text.startsWith("(the load records of " + run), text);
        for (int host = 0; host < 3; host++)
        {
            assertTrue(text.contains("\nhost " + host + " "), text);
        }
        assertTrue(text.contains("\ncluster      9  cpu "), text);
        assertTrue(text.contains("(the mean VM now; --vm-size to ask another)"), text);

        assertEquals(0, run("inventory", "--data", run.toString(), "--json", "--vm-size", "0.25,1G,0"), err.toString());
        final JsonNode json = new ObjectMapper().readTree(out.toString());
        assertEquals(0.25, json.get("vmSize").get("cpuCores").asDouble(), 1e-12);
        assertEquals(1024.0 * 1024 * 1024, json.get("vmSize").get("memoryBytes").asDouble(), 1e-3);
        assertEquals(3, json.get("hosts").size());
        long headroom = 0;
        int vms = 0;
        for (final JsonNode host : json.get("hosts"))
        {
            final JsonNode cpu = host.get("cpu");
            // what fits is what is free under the ceiling, in quarter cores (memory is plenty in the demo)
            assertEquals(Math.min((long)Math.floor(cpu.get("free").asDouble() / 0.25 + 1e-9),
                (long)Math.floor(host.get("memory").get("free").asDouble() / (1024.0 * 1024 * 1024) + 1e-9)),
                host.get("headroom").asLong(), host.toString());
            headroom += host.get("headroom").asLong();
            vms += host.get("vms").asInt();
        }
        assertEquals(9, vms);
        assertEquals(headroom, json.get("cluster").get("headroom").asLong());

        assertEquals(0, run("inventory", "--data", run.toString(), "--forecast", "0.0005"), err.toString());
        assertTrue(out.toString().contains("forecast: 2 s ahead in steps of 1 s"), out.toString());
        assertTrue(out.toString().contains("hosts of today's size needed over the next 2 s: "), out.toString());

        assertEquals(2, run("inventory", "--data", run.toString(), "--forecast", "1"));
        assertTrue(err.toString().startsWith("vmsched inventory: --forecast 1 h is beyond the history of " + run), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }

    @Test
    void mistakesAreOneLine(@TempDir final Path dir) throws IOException
    {
        assertEquals(2, run("inventory", "--data", dir.toString()));
        assertEquals("vmsched inventory: " + dir + " holds no journals (" + dir.resolve("journal") +
            "): not a vmsched data directory", err.toString().strip());
        Files.createDirectories(dir.resolve("journal"));
        assertEquals(2, run("inventory", "--data", dir.toString()));
        assertTrue(err.toString().strip().endsWith("holds no load records (LOAD_SNAPSHOT with inventory figures): a " +
            "cluster must run on it for a snapshot period first"), err.toString());
        assertEquals(2, run("inventory", "--data", dir.toString(), "--forecast", "0"));
        assertEquals("vmsched inventory: --forecast needs a number of hours above 0, got 0.0", err.toString().strip());
        assertEquals(2, run("inventory", "--data", dir.toString(), "--vm-size", "1,2"));
        assertEquals("vmsched inventory: --vm-size needs CPU,MEM,IO (e.g. 2,4G,50M), got '1,2'", err.toString().strip());
        assertEquals(2, run("inventory", "--data", dir.toString(), "--vm-size", "1,2X,0"));
        assertEquals("vmsched inventory: --vm-size: '2X' is not a number (with an optional K, M, G or T) in '1,2X,0'",
            err.toString().strip());
        assertEquals(2, run("inventory", "--data", dir.toString(), "--vm-size", "0,0,0"));
        assertTrue(err.toString().contains("a VM of nothing fits without end"), err.toString());
        assertEquals(2, run("inventory", "--data", dir.toString(), "--target-utilisation", "1.5"));
        assertEquals("vmsched inventory: --target-utilisation must be in (0, 1], got 1.5", err.toString().strip());
    }
}
