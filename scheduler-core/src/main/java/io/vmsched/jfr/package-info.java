/**
 * Java Flight Recorder events of the runtime (category {@code vmsched}): each step of a journaled
 * handoff, each balance decision, each change of a service's status. A user's ordinary recording
 * ({@code -XX:StartFlightRecording}, {@code jcmd <pid> JFR.start}, JDK Mission Control) shows them;
 * {@link io.vmsched.jfr.FlightEvents} is where the runtime emits them, allocation-free while no
 * recording runs.
 */
package io.vmsched.jfr;
