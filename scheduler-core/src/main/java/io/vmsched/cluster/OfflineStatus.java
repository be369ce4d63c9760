package io.vmsched.cluster;

import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.HostJournalState;
import io.vmsched.journal.RecordType;
import io.vmsched.placement.Constraints;
import io.vmsched.placement.Placement;
import io.vmsched.placement.Rule;
import io.vmsched.placement.Service;
import io.vmsched.placement.ServiceHealth;
import io.vmsched.placement.StatusReport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The services' status read from a data directory's journals, with no cluster running: the services
 * and rules from the placement journal, where each VM is from the hosts' journals, and each service's
 * status as last journaled (its VMs are "stopped": nothing runs them now). Rules over VMs are judged
 * against where the VMs are; VM-host rules are not (a host's labels live in its config, not its journal).
 * <p>
 * <b>Note:</b> Reads journals read-only; threadsafe (no state).
 */
public final class OfflineStatus
{
    private OfflineStatus()
    {
    }

    /**
     * @param dataDir a cluster's (or a node's) data directory.
     * @return its status.
     * @throws IllegalArgumentException if it holds no placement journal, or a journal cannot be read.
     */
    public static StatusReport read(final Path dataDir)
    {
        final Path placementDir = dataDir.resolve(ClusterPlacement.DIR);
        if (!Files.isDirectory(placementDir))
        {
            throw new IllegalArgumentException(dataDir + " holds no placement journal (" + placementDir +
                "): not a vmsched data directory, or one from before services");
        }
        final Map<String, Object[]> last = new HashMap<>(); // service -> {health, cause, epoch ms}
        final Placement placement = placement(placementDir, (index, record) ->
        {
            if (record.type() == RecordType.SERVICE_STATUS)
            {
                final String text = record.text();
                final int space = text.indexOf(' ');
                if (space > 0 && record.code() >= 0 && record.code() < ServiceHealth.values().length)
                {
                    last.put(text.substring(0, space), new Object[]{ServiceHealth.values()[record.code()],
                        text.substring(space + 1), record.timestampNs() / 1_000_000});
                }
            }
        });
        final Map<Long, Integer> where = new HashMap<>();
        final Path journals = dataDir.resolve("journal");
        if (Files.isDirectory(journals))
        {
            try (java.util.stream.Stream<Path> dirs = Files.list(journals))
            {
                for (final Path dir : dirs.sorted().toList())
                {
                    final String name = dir.getFileName().toString();
                    if (!name.matches("\\d+"))
                    {
                        continue;
                    }
                    final int host = Integer.parseInt(name);
                    try (ChronicleJournal journal = ChronicleJournal.openReadOnly(dir, host))
                    {
                        for (final Long vm : HostJournalState.replay(journal, false).owned().keySet())
                        {
                            where.put(vm, host);
                        }
                    }
                }
            }
            catch (final java.io.IOException ex)
            {
                throw new IllegalArgumentException("cannot list " + journals + ": " + ex.getMessage());
            }
        }
        final Constraints.Locator at = vm -> where.getOrDefault(vm, -1);
        final Constraints rules = placement.constraints();
        final List<StatusReport.RuleReport> ruleReports = new ArrayList<>();
        for (int r = 0; r < rules.ruleCount(); r++)
        {
            final Rule rule = rules.rule(r);
            if (rule.label() != null)
            {
                continue; // not judged offline
            }
            final List<Long> breaking = io.vmsched.placement.ServiceJudge.breaking(rules, r, at);
            ruleReports.add(new StatusReport.RuleReport(rule, breaking.isEmpty(), List.copyOf(breaking)));
        }
        final List<StatusReport.ServiceReport> services = new ArrayList<>();
        for (final Service service : placement.services())
        {
            final List<StatusReport.VmReport> vms = new ArrayList<>();
            for (final long vm : placement.members(service.name()))
            {
                final Integer host = where.get(vm);
                vms.add(new StatusReport.VmReport(vm, host == null ? -1 : host, host == null ? "absent" : "stopped", Double.NaN));
            }
            final Object[] status = last.get(service.name());
            services.add(status == null ?
                new StatusReport.ServiceReport(service, ServiceHealth.FAILED, "never watched: the cluster stopped before", 0, vms) :
                new StatusReport.ServiceReport(service, (ServiceHealth)status[0], status[1] + " (as last journaled)",
                    (Long)status[2], List.copyOf(vms)));
        }
        return new StatusReport(List.copyOf(services), List.copyOf(ruleReports));
    }

    /**
     * @param placementDir a placement journal's directory.
     * @param others       sees every record that is not a PLACEMENT statement.
     * @return the services, rules and drains its statements leave.
     */
    static Placement placement(final Path placementDir, final io.vmsched.journal.RecordHandler others)
    {
        final Placement placement = new Placement();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(placementDir, ClusterPlacement.NO_HOST))
        {
            journal.replay((index, record) ->
            {
                if (record.type() == RecordType.PLACEMENT)
                {
                    placement.replay(record.text());
                }
                else
                {
                    others.onRecord(index, record);
                }
            });
        }
        return placement;
    }
}
