package io.mucheckpoint.cpu;

/**
 * What the translator did in a run: translations made (and evicted to stay in bounds), blocks it
 * declined, the bytecode held now, the host time spent translating, and how many of the retired
 * instructions ran inside translations.
 */
public record TranslationStats(boolean enabled, int threshold, long made, long evicted, long declined,
                               long liveBytes, long nanosTranslating, long translatedInstructions) {
}
