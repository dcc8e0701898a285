// Cryptocurrency miners: pool protocols and well-known miner names/flags.

rule LG_YARA_MINER_STRATUM
{
    meta:
        id = "LG-YARA-MINER-001"
        cwe = "CWE-506"
        severity = "high"
        description = "Mining pool URL (stratum protocol)"
        family = "miner"
    strings:
        $s = /stratum\+(tcp|ssl|tls):\/\//ascii nocase
    condition:
        $s
}

rule LG_YARA_MINER_TOOL
{
    meta:
        id = "LG-YARA-MINER-002"
        cwe = "CWE-506"
        severity = "high"
        description = "Cryptocurrency miner binary or its command-line flags"
        family = "miner"
    strings:
        $xmrig = "xmrig" ascii nocase
        $cpuminer = /\bcpuminer\b/ ascii nocase
        $ethminer = /\b(ethminer|nbminer|t-rex|lolminer|phoenixminer)\b/ ascii nocase
        $donate = "--donate-level" ascii
        $algo = /--algo(rithm)?[ =]["']?(rx\/0|cryptonight|randomx|ethash|kawpow)/ ascii nocase
        $pools = /\b(minexmr|nanopool|supportxmr|moneroocean|2miners|f2pool|herominers)\.(com|org|net)\b/ ascii nocase
    condition:
        any of them
}
