// The settings the language server reads, built from VS Code's `edittrace.*` configuration. Pure.

/** Keys under `edittrace.` that only the extension uses; the server never sees them. */
export const EXTENSION_ONLY_KEYS: readonly string[] = ['python'];

export type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone(value: unknown): unknown {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/**
 * Drops empty strings and nulls from nested objects: VS Code reports every contributed
 * setting with its default, and an empty string there means "unset, use the server's default"
 * (the server would reject an empty `outbox.path`, for one).
 */
function withoutEmpty(value: unknown): unknown {
    if (!isObject(value)) {
        return value;
    }
    const kept: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
        if (item === '' || item === null || item === undefined) {
            continue;
        }
        kept[key] = withoutEmpty(item);
    }
    return kept;
}

/**
 * The nested settings object sent as `initializationOptions` and in
 * `workspace/didChangeConfiguration` (`{"collector": {"url": ...}, ...}`, as
 * `getConfiguration("edittrace")` gives them). The token from SecretStorage fills
 * `collector.token` when the setting leaves it empty; when both are empty the server falls back
 * to `EDITTRACE_TOKEN` in its environment.
 */
export function serverSettings(configuration: JsonObject, secretToken: string | undefined): JsonObject {
    const settings: JsonObject = {};
    for (const [key, value] of Object.entries(configuration)) {
        if (!EXTENSION_ONLY_KEYS.includes(key) && value !== undefined && typeof value !== 'function') {
            settings[key] = withoutEmpty(clone(value));
        }
    }
    const collector: JsonObject = isObject(settings.collector) ? settings.collector : {};
    const fromSetting = typeof collector.token === 'string' ? collector.token.trim() : '';
    if (fromSetting === '' && secretToken && secretToken.trim() !== '') {
        collector.token = secretToken.trim();
        settings.collector = collector;
    }
    if (settings.collector !== undefined && isObject(settings.collector) && Object.keys(settings.collector).length === 0) {
        delete settings.collector;
    }
    return settings;
}

/** The same settings with the token hidden, for the log. */
export function redactedSettings(settings: JsonObject): JsonObject {
    const copy = clone(settings) as JsonObject;
    if (isObject(copy.collector) && typeof copy.collector.token === 'string' && copy.collector.token !== '') {
        copy.collector.token = '***';
    }
    return copy;
}
