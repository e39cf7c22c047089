#!/usr/bin/env bash
# Generate deskline's sample prompts with espeak-ng and sox.
#
#   scripts/make-prompts.sh [OUTDIR]      (default: the source tree's etc/prompts)
#
# Writes OUTDIR/{he,en}/NAME.wav for every prompt etc/deskline.conf names, as 8000 Hz mono 16-bit
# PCM WAV — the only format prompt_load() accepts (G.711 runs at 8 kHz, RFC 3551 §4.5.14). The
# results are committed, so building or running deskline never needs espeak-ng; run this again only
# after changing a text below. They are synthetic stand-ins: record real prompts with the same
# names and format for production.
#
# espeak-ng reads unpointed Hebrew with few vowels and says no Hebrew digits, so the Hebrew texts
# spell the keys as words ("הקישו אחת"). "For English, press 9" is said in English on the Hebrew
# greeting: the callers who need it may not follow Hebrew.
#
# queue-music is not speech: a short synthesized loop (sox synth, no noise source, so it is
# reproducible too), the same file in every language.
#
# Output is reproducible: sox runs without dither (-D), so the same text gives the same bytes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
outdir=${1:-"$(dirname "$here")/etc/prompts"}

# Longest prompt allowed, seconds: a caller waits through a greeting before the digit timer starts.
max_seconds=15
# espeak-ng speaking rate, words per minute (its default, 175, is hurried over a phone line).
wpm=160

for tool in espeak-ng sox soxi; do
	if ! command -v "$tool" >/dev/null; then
		echo "make-prompts: $tool not found (Debian: apt-get install espeak-ng sox)" >&2
		exit 1
	fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# speak VOICE TEXT FILE: at espeak-ng's own rate (22050 Hz), converted once at the end. The
# half second of silence espeak-ng leaves at the end is cut: it would only delay the digit timer.
speak() {
	espeak-ng -v "$1" -s "$wpm" -w "$work/raw.wav" -- "$2"
	sox -D "$work/raw.wav" "$3" reverse silence 1 0.02 0.1% reverse
}

# finish OUT IN...: join the pieces with a short pause, to 8000 Hz mono 16-bit, peak at -3 dBFS.
finish() {
	local out=$1
	shift
	local parts=() i=0
	for piece in "$@"; do
		if ((i > 0)); then
			sox -D -n -r 22050 -c 1 -b 16 "$work/gap$i.wav" trim 0 0.4
			parts+=("$work/gap$i.wav")
		fi
		parts+=("$piece")
		i=$((i + 1))
	done
	# headroom first (espeak-ng peaks near full scale and resampling overshoots), norm after
	# rate: resampling moves the peak, so the level is set on what is sent
	sox -D "${parts[@]}" -r 8000 -c 1 -b 16 -e signed-integer "$out" gain -6 rate 8000 norm -3
	local seconds
	seconds=$(soxi -D "$out")
	if awk -v s="$seconds" -v m="$max_seconds" 'BEGIN { exit !(s > m) }'; then
		echo "make-prompts: $out is ${seconds}s, longer than ${max_seconds}s" >&2
		exit 1
	fi
	printf "%-34s %5.1fs\n" "${out#"$outdir"/}" "$seconds"
}

# prompt LANG NAME TEXT [VOICE TEXT]...: one prompt, optionally in several voices.
prompt() {
	local lang=$1 name=$2
	shift 2
	local pieces=() n=0
	speak "$lang" "$1" "$work/$lang-$name-$n.wav"
	pieces+=("$work/$lang-$name-$n.wav")
	shift
	while (($# >= 2)); do
		n=$((n + 1))
		speak "$1" "$2" "$work/$lang-$name-$n.wav"
		pieces+=("$work/$lang-$name-$n.wav")
		shift 2
	done
	mkdir -p "$outdir/$lang"
	finish "$outdir/$lang/$name.wav" "${pieces[@]}"
}

# music NAME: queue-music, looped while a caller waits for a clerk. Four bars of C - Am - F - G,
# two seconds each: a soft pad under a bell-like arpeggio in eighth notes. G leads back to C, so
# the loop has no seam to hear; every note fades in and out, so there are no clicks either. Peak
# at -9 dBFS: it plays for minutes, between prompts normalized to -3 dBFS.
music() {
	local name=$1
	local bar_s=2 note_s=0.25
	local chords=(
		"261.63 329.63 392.00"   # C4 E4 G4
		"220.00 261.63 329.63"   # A3 C4 E4
		"174.61 220.00 261.63"   # F3 A3 C4
		"196.00 246.94 293.66"   # G3 B3 D4
	)
	local bars=() b=0
	for chord in "${chords[@]}"; do
		local f=($chord) notes=() n=0
		# arpeggio an octave up: 1 2 3 2 1 2 3 2
		for i in 0 1 2 1 0 1 2 1; do
			local hz
			hz=$(awk -v f="${f[$i]}" 'BEGIN { printf "%.2f", 2 * f }')
			sox -D -n -r 22050 -c 1 -b 16 "$work/m$b-$n.wav" \
				synth "$note_s" sine "$hz" fade l 0.005 "$note_s" 0.2
			notes+=("$work/m$b-$n.wav")
			n=$((n + 1))
		done
		sox -D "${notes[@]}" "$work/arp$b.wav"
		sox -D -n -r 22050 -c 1 -b 16 "$work/pad$b.wav" \
			synth "$bar_s" sine "${f[0]}" synth "$bar_s" sine mix "${f[1]}" \
			synth "$bar_s" sine mix "${f[2]}" fade t 0.3 "$bar_s" 0.3 gain -10
		sox -D -m "$work/pad$b.wav" "$work/arp$b.wav" "$work/bar$b.wav"
		bars+=("$work/bar$b.wav")
		b=$((b + 1))
	done
	sox -D "${bars[@]}" -r 8000 -c 1 -b 16 -e signed-integer "$work/$name.wav" \
		gain -6 rate 8000 norm -9
	for lang in he en; do
		mkdir -p "$outdir/$lang"
		cp "$work/$name.wav" "$outdir/$lang/$name.wav"
		printf "%-34s %5.1fs\n" "$lang/$name.wav" "$(soxi -D "$outdir/$lang/$name.wav")"
	done
}

# Hebrew. The four choices are Procedure 46 §2.1-2.3 (the payment center) and §5 (the department).
prompt he main-greeting \
	"שלום, הגעתם למחלקת הגבייה. לתשלום ממוחשב, הקישו אחת. לתשלום בעזרת נציג, שתיים. לבירורים מול נציג, שלוש. למחלקת הגבייה, ארבע." \
	en "For English, press 9."
prompt he invalid "בחירה לא חוקית."
prompt he no-input "לא קיבלנו את בחירתכם."
prompt he goodbye "תודה שפניתם אלינו, להתראות."
prompt he try-later "כל הקווים תפוסים כעת, אנא נסו שוב מאוחר יותר."
prompt he transfer-callcenter "אתם מועברים למוקד המועצה."
# Outside business hours (calendar.closed, Procedure 46 §6); the hours said are the calendar's.
prompt he closed "מחלקת הגבייה סגורה כעת. שעות הפעילות שלנו הן בימים ראשון עד חמישי, משמונה עד ארבע. אתם מועברים למוקד המועצה."
# Heard by clerks after dialing a feature code (features.ok_prompt, features.error_prompt).
prompt he feature-ok "בוצע."
prompt he feature-error "לא ניתן היה להשלים את הבקשה."

# English.
prompt en main-greeting \
	"Hello, you have reached the council's collection department. For automated payment, press 1. To pay with an agent, press 2. For questions to an agent, press 3. For the collection department, press 4."
prompt en invalid "Invalid choice."
prompt en no-input "We did not receive your choice."
prompt en goodbye "Thank you for calling. Goodbye."
prompt en try-later "All lines are busy. Please try again later."
prompt en transfer-callcenter "Transferring you to the council call center."
prompt en closed "The collection department is closed now. Our hours are Sunday to Thursday, eight to four. Transferring you to the council call center."
prompt en feature-ok "Done."
prompt en feature-error "The request could not be completed."

# Both languages.
music queue-music
