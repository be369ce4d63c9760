/**
 * Commands over the journals: dump, replay, verify, timeline, stats and report.
 * <p>
 * Not yet implemented: this module only reserves its place in the reactor (issue "journal-tools").
 */
package io.vmsched.journal.tools;
