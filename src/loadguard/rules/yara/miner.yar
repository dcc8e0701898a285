// Cryptocurrency miners: pool protocols and well-known miner names/flags.

rule LG_YARA_MINER_STRATUM
{
    meta:
        id = "LG-YARA-MINER-001"
        cwe = "CWE-506"
        severity = "high"
        description = "Mining pool URL (stratum protocol and its variants)"
        family = "miner"
    strings:
        // stratum+tcp://, stratum2+ssl://, stratum://, ethstratum://, ethproxy+tcp://
        $s = /\b(stratum[0-9]?(\+(tcp|ssl|tls))?|ethstratum[0-9]?(\+(tcp|ssl|tls))?|ethproxy(\+(tcp|ssl|tls))?|nicehash\+tcp):\/\//ascii nocase
    condition:
        $s
}

rule LG_YARA_MINER_TOOL
{
    meta:
        id = "LG-YARA-MINER-002"
        cwe = "CWE-506"
        severity = "high"
        description = "Cryptocurrency miner binary, its command-line flags, config keys or pool hosts"
        family = "miner"
    strings:
        $xmrig = "xmrig" ascii nocase
        $cpuminer = /\bcpuminer\b/ ascii nocase
        $ethminer = /\b(ethminer|nbminer|lolminer|phoenixminer|gminer|nanominer|bminer|teamredminer|srbminer(-multi)?|xmr-stak(-rx)?|ccminer|wildrig(-multi)?)\b/ ascii nocase
        // T-Rex the miner, run with its flags; T-Rex/T-Rex2 is also a detection model's name
        $trex = /\bt-rex(\.exe)?\s+(-a|--algo|-o|--url|-c|--config|-u|--user)\s/ ascii
        $donate = /--donate-level|["']donate-level["']\s*:/ ascii
        $flags = /--(randomx-1gb-pages|cpu-max-threads-hint|randomx-mode|cpu-priority[\s=][0-9])/ ascii
        $algo = /--algo(rithm)?[ =]["']?(rx\/0|cryptonight|randomx|ethash|kawpow|etchash|autolykos)/ ascii nocase
        $cfg = /["']algo["']\s*:\s*["'](rx\/0|rx\/wow|cn\/r|cn\/0|randomx|cryptonight|kawpow|ethash)["']/ ascii nocase
        $pools = /\b(minexmr|nanopool|supportxmr|moneroocean|2miners|f2pool|herominers|hashvault|minergate|c3pool|unmineable|xmrpool|ethermine|nicehash|miningpoolhub|zpool)\.(com|org|net|stream|pro|eu|ca|io)\b/ ascii nocase
    condition:
        any of them
}
