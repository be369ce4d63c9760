package io.vmsched.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The options several commands share, as picocli mixins ({@code @Mixin}): each flag is declared and
 * range-checked once, and a command's default (picocli takes a mixin's initial values as defaults)
 * is given to the mixin's constructor. Where a command's help says more about what a shared flag means
 * to it, that wording is in {@link HelpTexts}, keyed by the command; the other commands show the
 * mixin's own description.
 * <p>
 * Threading: picocli fills a mixin on the thread that parses; the command reads it on the same one.
 */
final class Mixins
{
    private static final DateTimeFormatter RUN_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS");

    private Mixins()
    {
    }

    /** {@code --data}: the data directory, which must be a directory or not exist yet. */
    static final class DataDir
    {
        @Option(names = "--data", defaultValue = "vmsched-data",
            description = "The data directory (default: ${DEFAULT-VALUE}).")
        Path data;

        /**
         * @return the directory given.
         * @throws IllegalArgumentException if a file is in its place.
         */
        Path checked()
        {
            Flags.directoryOrAbsent("--data", data);
            return data;
        }

        /**
         * Make a new folder for one run in the directory (which is made too if need be), named by
         * the time to the millisecond: a second run on the same directory never meets the first one's
         * files, nor maps over them while a reader may still have them open.
         *
         * @param prefix the folder's name before the time, e.g. {@code run-}.
         * @return the folder.
         * @throws IllegalArgumentException if a file is in the directory's place, or the folder cannot
         *                                  be made (one made in the same millisecond is never shared).
         */
        Path newRun(final String prefix)
        {
            final Path dir = checked();
            final Path run = dir.resolve(prefix + LocalDateTime.now().format(RUN_TIME));
            try
            {
                Files.createDirectories(dir);
                Files.createDirectory(run);
            }
            catch (final IOException ex)
            {
                throw new IllegalArgumentException("--data " + dir + ": cannot create " + run + " (" +
                    VmschedCommand.reason(ex) + ")");
            }
            return run;
        }
    }

    /** The demos' shared options: how long, which seed, and where each run's folder goes. */
    static final class Run
    {
        @Mixin
        final Duration duration;
        @Mixin
        final Seed seed = new Seed();
        @Mixin
        final DataDir data = new DataDir();

        /**
         * @param defaultSeconds the command's default {@code --duration}.
         */
        Run(final int defaultSeconds)
        {
            this.duration = new Duration(defaultSeconds);
        }
    }

    /** {@code --duration}: seconds a demo runs, at least 1; each command has its own default. */
    static final class Duration
    {
        @Option(names = "--duration", description = "Seconds to run (default: ${DEFAULT-VALUE}).")
        int durationSeconds; // the field's name is the help's <durationSeconds>

        /**
         * @param defaultSeconds the default, shown in the help (picocli takes a mixin's initial values
         *                       as its defaults, and restores them before each parse).
         */
        Duration(final int defaultSeconds)
        {
            this.durationSeconds = defaultSeconds;
        }

        /**
         * @return the seconds given.
         * @throws IllegalArgumentException if below 1.
         */
        int seconds()
        {
            Flags.atLeast("--duration", durationSeconds, 1, " second");
            return durationSeconds;
        }
    }

    /** {@code --seed}: the seed of a run's random choices. */
    static final class Seed
    {
        @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
        long seed;

        /** @return the seed given. */
        long value()
        {
            return seed;
        }
    }

    /** {@code --metrics-port}, {@code --metrics-bind}: a Prometheus endpoint ({@link Metrics}), off unless a port is given. */
    static final class MetricsEndpoint
    {
        @Option(names = "--metrics-port", description = "Serve Prometheus metrics at http://BIND:PORT/metrics, " +
            "0-65535 (0: any free port, named in the start line; default: no endpoint).")
        Integer port;

        @Option(names = "--metrics-bind", description = "The address the metrics endpoint listens on (default: " +
            Metrics.LOOPBACK + ", this machine only).")
        String bind;

        /**
         * @return the endpoint, serving, or null if no {@code --metrics-port} was given.
         * @throws IllegalArgumentException naming the flag: a port out of range, a bad address, a bind address
         *                                  without a port.
         * @throws IllegalStateException    naming the flag: the port is in use.
         */
        Metrics start()
        {
            if (port == null)
            {
                if (bind != null)
                {
                    throw new IllegalArgumentException("--metrics-bind needs --metrics-port");
                }
                return null;
            }
            return Metrics.start(bind == null ? Metrics.LOOPBACK : bind, port);
        }
    }

    /** {@code --registry} and {@code --secret}: a cluster across machines, reached through its registry. */
    static final class Registry
    {
        @Option(names = "--registry", description = "The cluster across machines of this registry: its members, " +
            "ID=HOST:PORT,... (needs --secret).")
        String members;

        @Option(names = "--secret", description = "With --registry: the cluster's secret file.")
        java.nio.file.Path secret;

        /** @return whether a registry was named. */
        boolean given()
        {
            return members != null;
        }

        /**
         * @return a client of the registry (not a node: it reads and changes without joining), to close.
         * @throws IllegalArgumentException in one line: no --secret, a bad secret file or member list.
         */
        io.vmsched.aeron.registry.RegistryClient connect()
        {
            if (secret == null)
            {
                throw new IllegalArgumentException("--registry needs --secret (the cluster's secret file)");
            }
            final byte[] key = io.vmsched.aeron.ClusterSecret.read(secret);
            return io.vmsched.aeron.registry.RegistryClient.connect(new io.vmsched.aeron.registry.RegistryClient.Context()
                .members(io.vmsched.aeron.registry.RegistryMember.ingressEndpoints(members)).secret(key)
                .connectTimeout(10, java.util.concurrent.TimeUnit.SECONDS).log(line -> { }));
        }
    }

    /** {@code --json}: JSON instead of the text output. */
    static final class JsonOutput
    {
        @Option(names = "--json", description = "One JSON object per line.")
        boolean json;

        /** @return true if JSON was asked for. */
        boolean wanted()
        {
            return json;
        }
    }
}
