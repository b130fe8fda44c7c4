// What the extension remembers between events: the suggestions last offered, the last accepted
// one (for the thumbs keys and "Rate…"), and the last offer with several candidates (for
// comparison). Facts only; no figures are computed here.
import { SuggestionRef } from '../core/lifecycle';

export interface OfferedSuggestions {
    uri: string;
    refs: SuggestionRef[];
}

export class BridgeState {
    lastOffered: OfferedSuggestions | undefined;
    lastAccepted: SuggestionRef | undefined;
    lastMultiCandidate: string | undefined;
    /** True when VS Code calls the proposed `handle…` callbacks on our provider. */
    callbacksLive = false;
    recording = true;
}
