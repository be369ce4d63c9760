package io.vmsched.cli;

import java.util.ListResourceBundle;

/**
 * What a shared flag ({@link Mixins}) means to one command, where that says more than the mixin's
 * own description: picocli looks an option's description up here by the command's qualified name and
 * the option's name ({@code vmsched.demo.data}), and falls back to the annotation's.
 * <p>
 * Threading: immutable; {@link java.util.ResourceBundle} loads it once.
 */
public final class HelpTexts extends ListResourceBundle
{
    private static final Object[][] CONTENTS =
    {
        { "vmsched.demo.data", "Directory for the run's journals, in a new run-<time> folder (default: ${DEFAULT-VALUE})." },
        { "vmsched.dispatch-demo.data", "Directory for the run's mapped schedule and I/O guest's file, in a new " +
            "dispatch-<time> folder (default: ${DEFAULT-VALUE})." },
        { "vmsched.qemu-demo.data", "Directory for the run's journals, VMs' sockets and logs and the drivers' " +
            "incoming copies, in a new qemu-<time> folder (default: ${DEFAULT-VALUE})." },
        { "vmsched.qemu-demo.seed", "Seed for the VMs' loads and the peer choices (default: ${DEFAULT-VALUE})." },
        { "vmsched.node.data", "Directory for the journal and the counters file (default: ${DEFAULT-VALUE})." },
        { "vmsched.stat.data", "The node's data directory (default: ${DEFAULT-VALUE})." },
        { "vmsched.demo.seed", "Seed for loads and peer choices (default: ${DEFAULT-VALUE})." },
        { "vmsched.dispatch-demo.seed", "Seed for the guests' weights (default: ${DEFAULT-VALUE})." },
        { "vmsched.stat.json", "Print one JSON object and exit." },
        { "vmsched.simulate.json", "End with one JSON line of the summary." },
    };

    @Override
    protected Object[][] getContents()
    {
        return CONTENTS;
    }
}
