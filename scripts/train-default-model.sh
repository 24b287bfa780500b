#!/usr/bin/env bash
# Issue 11's training campaign for the default emotion model, one resumable stage at a time:
#
#   scripts/train-default-model.sh interim        # the shipped resnet w16, distilled from today's two models
#   scripts/train-default-model.sh teacher-cnn    # teacher 1: the small CNN, 150 epochs, the full recipe
#   scripts/train-default-model.sh teacher-resnet # teacher 2: a ResNet of width 32, 150 epochs, the same recipe
#   scripts/train-default-model.sh student        # the student, distilled from the teachers (with mirror images):
#                                                 # each alone or both, whichever is best on PublicTest
#   scripts/train-default-model.sh all            # both teachers side by side (a thread each; the one left
#                                                 # on both once the other ends), then the student
#   scripts/train-default-model.sh search         # the student's architecture: the candidates on a short schedule
#   scripts/train-default-model.sh ship           # the finished student becomes the default model (below)
#
# Run folders (checkpoint every epoch, state, best model) and logs go to $FER_RUNS (default ~/fer-runs/issue11),
# outside the work tree; running a stage again resumes it from its last finished epoch (same configuration, or
# fer-train refuses). $THREADS (default 1) and $NICE (default 19) let two stages share a 2-core machine with other
# work. $OUT names the best model's file instead (a finished stage exports again at once, e.g.
# OUT=models/emotion_resnet16.keras scripts/train-default-model.sh interim).
# The recipe: random flips, rotations, zoom, shifts, contrast and brightness, random erasing (0.5), FER+ vote
# distributions mixed into the targets (0.5), label smoothing 0.1, AdamW with a cosine schedule; selected on
# PublicTest, reported on PrivateTest against both label sets.
# `ship` exports the finished student to models/emotion_resnet16.keras (or $OUT), converts it to every format with
# manifests (fer-convert --all), regenerates models/MODEL_CARD.md and the golden outputs; then update the README's
# tables from the card and run the full benchmarks (`pytest benchmarks`) with nothing else running. It first
# compares the student with the model it would replace on PublicTest (scripts/better_on_publictest.py), and keeps
# that one, exit 3, when the student is no better (FORCE=1 ships the student anyway).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${FER_RUNS:-$HOME/fer-runs/issue11}
PY=${PYTHON:-$REPO/.venv/bin/python}
THREADS=${THREADS:-1}
NICE=${NICE:-19}
RECIPE=(--erasing 0.5 --ferplus-votes --ferplus-weight 0.5)
STUDENT_EPOCHS=150
SEARCH_EPOCHS=${SEARCH_EPOCHS:-20}
# the student candidates that are no slower than MobileNetV2 int8 on either measured CPU (architectures.md)
SEARCH=("resnet16 --arch resnet --width 16" "sepnet48 --arch sepnet --width 48")
export TF_CPP_MIN_LOG_LEVEL=2

train() {  # train NAME ARGS...: one resumable fer-train run in $RUNS/NAME, its best model in $OUT or $RUNS/NAME.keras
    local name=$1; shift
    mkdir -p "$RUNS"
    cd "$REPO"
    nice -n "$NICE" "$PY" -m convert.train.cli --threads "$THREADS" --log "$RUNS/$name.log" emotion "$@" \
        --run-dir "$RUNS/$name" --out "${OUT:-$RUNS/$name.keras}"
}

student() {  # the student, distilled from the teachers chosen on PublicTest; refuses to start before they are trained
    for t in teacher-cnn teacher-resnet; do
        [ -f "$RUNS/$t.keras" ] || { echo "train the $t stage first ($RUNS/$t.keras is missing)" >&2; exit 2; }
    done
    # each teacher alone or both, whichever is best on PublicTest (scripts/choose_teachers.py; a started run keeps its)
    local chosen=() teachers=() t
    mapfile -t chosen < <(cd "$REPO" && "$PY" scripts/choose_teachers.py --student-run "$RUNS/student" \
        --record "$RUNS/teacher-choice.json" "$RUNS/teacher-cnn.keras" "$RUNS/teacher-resnet.keras")
    [ "${#chosen[@]}" -gt 0 ] || { echo "choosing the teachers failed (scripts/choose_teachers.py)" >&2; exit 1; }
    for t in "${chosen[@]}"; do
        [ -f "$t" ] || { echo "choose_teachers.py named $t, which is not a teacher file" >&2; exit 1; }
        teachers+=(--teacher "$t")
    done
    train student --arch resnet --width 16 --epochs "$STUDENT_EPOCHS" "${RECIPE[@]}" "${teachers[@]}" \
        --distill-weight 0.5 --distill-offline
}

one_model_per_stage() {  # a stage that trains several models: $OUT cannot name all of them
    [ -z "${OUT:-}" ] || { echo "OUT names one stage's model; run '$1' without it" >&2; exit 2; }
}

case "${1:-}" in
    interim)
        train student-interim --arch resnet --width 16 --epochs 80 "${RECIPE[@]}" \
            --teacher "$REPO/models/emotion_cnn.keras" --teacher "$REPO/models/emotion_mobilenetv2.keras" \
            --distill-weight 0.4 --distill-offline ;;
    teacher-cnn)
        train teacher-cnn --arch cnn --epochs 150 "${RECIPE[@]}" ;;
    teacher-resnet)
        train teacher-resnet --arch resnet --width 32 --epochs 150 "${RECIPE[@]}" ;;
    student)
        student ;;
    all)  # one command per session: whatever is left of the campaign, resumed; a finished stage only exports again
        one_model_per_stage all
        set -m  # each teacher in a process group of its own, so that the one left training can be restarted whole
        THREADS=1 "$0" teacher-cnn & cnn=$!
        THREADS=1 "$0" teacher-resnet & resnet=$!
        while kill -0 "$cnn" 2> /dev/null && kill -0 "$resnet" 2> /dev/null; do sleep "${POLL:-30}"; done
        first=$cnn; other=$resnet; left=teacher-resnet
        kill -0 "$cnn" 2> /dev/null && { first=$resnet; other=$cnn; left=teacher-cnn; }
        failed=0
        wait "$first" || failed=1
        if [ "$failed" = 0 ] && kill -0 "$other" 2> /dev/null; then
            # the freed core goes to the teacher still training: stopped (its partial epoch is lost, its checkpoints
            # are whole) and resumed on both threads
            echo "the first teacher has finished: $left goes on with 2 threads" >&2
            kill -TERM -- "-$other" 2> /dev/null || true
            wait "$other" || true
            THREADS=2 "$0" "$left" || failed=1
        else
            wait "$other" || failed=1
        fi
        [ "$failed" = 0 ] || { echo "a teacher stage failed (see its log in $RUNS)" >&2; exit 1; }
        THREADS=2 "$0" student ;;
    search)  # the same recipe, no teachers, a short cosine schedule; compared on PublicTest (the selection split)
        one_model_per_stage search
        for candidate in "${SEARCH[@]}"; do
            read -r name args <<< "$candidate"
            # shellcheck disable=SC2086  # the candidate's arguments split on purpose
            train "search-$name-e$SEARCH_EPOCHS" $args --epochs "$SEARCH_EPOCHS" "${RECIPE[@]}"
        done ;;
    ship)
        cd "$REPO"
        "$PY" -c "import sys; from pathlib import Path; from convert.train.loop import finished; \
sys.exit(0 if finished(Path(sys.argv[1]), int(sys.argv[2])) else 1)" "$RUNS/student" "$STUDENT_EPOCHS" \
            || { echo "the student stage has not finished its $STUDENT_EPOCHS epochs ($RUNS/student)" >&2; exit 2; }
        OUT=${OUT:-$REPO/models/emotion_resnet16.keras}
        # the best model reached so far is shipped: not a student that reads PublicTest worse than the default it
        # would replace (FORCE=1 ships it anyway)
        if [ -f "$OUT" ] && [ "${FORCE:-0}" != 1 ]; then
            better=0
            "$PY" scripts/better_on_publictest.py "$RUNS/student/best.keras" "$OUT" \
                --record "$RUNS/ship-choice.json" || better=$?
            case $better in
                0) ;;
                1) echo "the student reads PublicTest no better than $OUT, which stays the default" \
                        "(the comparison: $RUNS/ship-choice.json; FORCE=1 ships it anyway)" >&2; exit 3 ;;
                *) echo "comparing the student with $OUT failed" >&2; exit 1 ;;
            esac
        fi
        student
        "$PY" -m convert.cli "$OUT" --all --out "$REPO/models" --threads 2 -q
        "$PY" -m convert.model_card "$REPO/models" --preamble "$REPO/scripts/model_card_preamble.md"
        "$PY" "$REPO/scripts/make_golden.py" ;;
    *)
        echo "usage: $0 interim|teacher-cnn|teacher-resnet|student|all|search|ship" >&2; exit 2 ;;
esac
