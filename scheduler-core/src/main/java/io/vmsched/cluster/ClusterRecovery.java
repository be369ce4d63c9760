package io.vmsched.cluster;

import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.Journal;
import io.vmsched.journal.JournalCheck;
import io.vmsched.journal.JournalCorruptException;

/**
 * Builds an embedded cluster's hosts from its data directory: the manifest and every journal are
 * checked read-only first, then each journal is replayed once, every host checks that it can recover,
 * and only then does any host write (recovery records, HOST_STARTED). A refusal at any step closes
 * what was opened and leaves the directory as it was.
 * <p>
 * <b>Note:</b> Not threadsafe: the thread starting the cluster.
 */
final class ClusterRecovery
{
    private ClusterRecovery()
    {
    }

    /**
     * @param hosts filled with the recovered hosts (not started).
     * @return VMs the hosts own after recovery.
     */
    static int recover(final ClusterConfig config, final ClusterView view, final Transports transports,
        final DataDirectory dataDirectory, final HostRuntime[] hosts)
    {
        if (config.localHost >= 0)
        {
            return recoverNode(config, view, transports, hosts);
        }
        final Journal[] journals = new Journal[config.hosts];
        try
        {
            dataDirectory.checkHosts(config.hosts, config::journalDir);
            dataDirectory.checkNoOtherJournals(config.hosts, config.dataDir.resolve("journal"));
            final JournalState[] states = new JournalState[config.hosts];
            for (int h = 0; h < config.hosts; h++) // every journal verified before any is opened for writing
            {
                final JournalState state = JournalState.empty();
                states[h] = state;
                // one read of each journal both checks it and replays it for recovery
                final long records = JournalCheck.verify(config.journalDir(h), (index, record) -> state.apply(record));
                if (records == 0 && h < dataDirectory.knownHosts())
                {
                    throw JournalCorruptException.file(config.journalDir(h), "holds no journal, but " +
                        dataDirectory.dir().resolve(DataDirectory.MANIFEST_FILE) + " records host " + h +
                        " as started: its files are missing; restore them");
                }
            }
            for (int h = 0; h < config.hosts; h++)
            {
                journals[h] = ChronicleJournal.open(config.journalDir(h), h);
            }
            final CommitPoint commitPoint = (target, migrationId) ->
                target >= 0 && target < states.length && states[target].activatedHere().contains(migrationId);
            for (int h = 0; h < config.hosts; h++)
            {
                hosts[h] = new HostRuntime(h, config.hostConfig(h), view, transports.of(h), journals[h], config.guests, config.faults);
                hosts[h].checkRecoverable(states[h], commitPoint); // all hosts before any writes: a refusal changes nothing
            }
            int owned = 0;
            for (int h = 0; h < config.hosts; h++)
            {
                owned += hosts[h].recover(states[h], commitPoint);
                transports.attach(h, hosts[h].inbox());
            }
            // the hypervisors agree with the journals: copies that must not run are quit on every host first
            for (int h = 0; h < config.hosts; h++)
            {
                hosts[h].settleCopies();
            }
            for (int h = 0; h < config.hosts; h++)
            {
                hosts[h].runKept();
            }
            dataDirectory.recordHosts(config.hosts);
            return owned;
        }
        catch (final RuntimeException ex)
        {
            for (int h = 0; h < config.hosts; h++)
            {
                if (hosts[h] != null)
                {
                    hosts[h].close();
                }
                else if (journals[h] != null)
                {
                    journals[h].close();
                }
            }
            throw ex;
        }
    }

    /**
     * A node's one host: its own journal only, and the registry as the commit point of the migrations a
     * crash cut short (the peers' journals are on other machines).
     */
    private static int recoverNode(final ClusterConfig config, final ClusterView view, final Transports transports,
        final HostRuntime[] hosts)
    {
        final int h = config.localHost;
        checkOnlyOwnJournal(config.dataDir.resolve("journal"), h);
        final JournalState state = JournalState.empty();
        JournalCheck.verify(config.journalDir(h), (index, record) -> state.apply(record));
        final Journal journal = ChronicleJournal.open(config.journalDir(h), h);
        final CommitPoint commitPoint = new RegistryCommitPoint(config.owners, h);
        try
        {
            hosts[h] = new HostRuntime(h, config.hostConfig(h), view, transports.of(h), journal, config.guests, config.faults);
            hosts[h].checkRecoverable(state, commitPoint);
            final int owned = hosts[h].recover(state, commitPoint);
            hosts[h].settleCopies();
            hosts[h].runKept();
            transports.attach(h, hosts[h].inbox());
            return owned;
        }
        catch (final RuntimeException ex)
        {
            if (hosts[h] != null)
            {
                hosts[h].close();
            }
            else
            {
                journal.close();
            }
            throw ex;
        }
    }

    private static void checkOnlyOwnJournal(final java.nio.file.Path journals, final int host)
    {
        if (!java.nio.file.Files.isDirectory(journals))
        {
            return;
        }
        try (java.util.stream.Stream<java.nio.file.Path> dirs = java.nio.file.Files.list(journals))
        {
            dirs.map(d -> d.getFileName().toString()).filter(name -> name.matches("\\d{1,9}"))
                .mapToLong(Long::parseLong).filter(id -> id != host).min().ifPresent(id ->
                {
                    throw new IllegalArgumentException(journals + " holds the journal of host " + id + ", but this node " +
                        "is host " + host + ": a node's data directory is its own; give each node its own");
                });
        }
        catch (final java.io.IOException ex)
        {
            throw new IllegalArgumentException("cannot list " + journals + ": " + ex.getMessage(), ex);
        }
    }
}
