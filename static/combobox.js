// Type-ahead for a long <select data-combobox="noun">: the WAI-ARIA 1.2 combobox with a listbox
// popup and list autocomplete (manual selection). The select stays in the form, hidden, as the
// field that is sent; without this file it is a plain select, the practitioner's areas first.
(() => {
  // "Mōrnington-Peninsula" → "mornington peninsula": case, accents and punctuation ignored.
  const fold = (text) =>
    text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();

  function counted(number, noun) {
    if (number === 0) return `No ${noun} matches`;
    return number === 1 ? `1 ${noun} matches` : `${number} ${noun}s match`;
  }

  function enhance(select) {
    const id = select.id;
    const noun = select.dataset.combobox || "option";
    const label = document.querySelector(`label[for="${id}"]`);
    const form = select.form;

    // The visible input takes the select's id, so its label and the error summary's link
    // lead to it; the select keeps its name and is left out of the page and its semantics.
    select.id = `${id}-select`;
    select.hidden = true;
    if (label && !label.id) label.id = `${id}-label`;

    const box = document.createElement("div");
    box.className = "combobox";
    const input = document.createElement("input");
    Object.assign(input, { id, type: "text", autocomplete: "off", spellcheck: false });
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", `${id}-listbox`);
    input.setAttribute("autocapitalize", "off");
    for (const name of ["aria-describedby", "aria-invalid"]) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    }

    const listbox = document.createElement("div");
    listbox.id = `${id}-listbox`;
    listbox.className = "combobox-listbox";
    listbox.setAttribute("role", "listbox");
    if (label) listbox.setAttribute("aria-labelledby", label.id);
    listbox.hidden = true;

    // One role=group per optgroup, named by its visible label ("Your areas", a district).
    const options = [];
    [...select.querySelectorAll("optgroup")].forEach((optgroup, g) => {
      const group = document.createElement("div");
      group.setAttribute("role", "group");
      group.className = "combobox-group";
      const heading = document.createElement("div");
      heading.id = `${id}-group-${g}`;
      heading.className = "combobox-group-label";
      heading.textContent = optgroup.label;
      group.setAttribute("aria-labelledby", heading.id);
      group.append(heading);
      for (const source of optgroup.querySelectorAll("option")) {
        const option = document.createElement("div");
        option.id = `${id}-option-${options.length}`;
        option.className = "combobox-option";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = source.textContent;
        option.dataset.value = source.value;
        option.dataset.folded = fold(source.textContent);
        group.append(option);
        options.push(option);
      }
      listbox.append(group);
    });

    // Says how many match: polite, and only once typing pauses.
    const status = document.createElement("p");
    status.id = `${id}-status`;
    status.className = "combobox-status visually-hidden";
    status.setAttribute("role", "status");

    box.append(input, listbox);
    select.after(box, status);

    let shown = [];
    let active = null;
    let announcing = 0;

    const chosenOption = () => options.find((o) => o.dataset.value && o.dataset.value === select.value);
    const exactly = (text) => {
      const wanted = fold(text);
      return wanted ? options.find((o) => o.dataset.folded === wanted) : undefined;
    };

    function announce(text, visible) {
      clearTimeout(announcing);
      status.classList.toggle("visually-hidden", !visible);
      announcing = setTimeout(() => { status.textContent = text; }, 400);
    }

    function setActive(option) {
      if (active) {
        active.classList.remove("is-active");
        active.setAttribute("aria-selected", "false");
      }
      active = option;
      if (option) {
        option.classList.add("is-active");
        option.setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    // Show the options containing the text (all of them for none), groups without a match hidden.
    function filter(text) {
      const wanted = fold(text);
      shown = options.filter((o) => o.dataset.folded.includes(wanted));
      for (const option of options) option.hidden = !shown.includes(option);
      for (const group of listbox.children) {
        group.hidden = !group.querySelector('[role="option"]:not([hidden])');
      }
      const chosen = chosenOption();
      for (const option of options) option.classList.toggle("is-chosen", option === chosen);
      setActive(null);
      listbox.scrollTop = 0; // the first match in view, not one scrolled under a group's name
      if (shown.length) open();
      else close();
      announce(counted(shown.length, noun), shown.length === 0 && wanted !== "");
    }

    function open() {
      if (!listbox.hidden) return;
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      // Low on a phone's screen, the page scrolls just enough to show the list.
      listbox.scrollIntoView({ block: "nearest" });
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(null);
    }

    // Opened without typing, a chosen council shows among all of them, as a select would.
    function openAll() {
      const chosen = chosenOption();
      filter(chosen && input.value === chosen.textContent ? "" : input.value);
      return chosen && shown.includes(chosen) ? chosen : null;
    }

    function choose(option) {
      input.value = option.textContent;
      select.value = option.dataset.value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      close();
      announce("", false);
    }

    // Text that names no council sends no council, so the server asks for one.
    function sync() {
      const match = exactly(input.value);
      select.value = match ? match.dataset.value : "";
    }

    function move(step) {
      if (listbox.hidden || !shown.length) {
        const chosen = openAll();
        if (!shown.length) return;
        setActive(chosen || shown[step > 0 ? 0 : shown.length - 1]);
        return;
      }
      const at = shown.indexOf(active);
      const next = at === -1 ? (step > 0 ? 0 : shown.length - 1) : (at + step + shown.length) % shown.length;
      setActive(shown[next]);
    }

    input.addEventListener("input", () => {
      sync();
      filter(input.value);
    });
    input.addEventListener("click", () => {
      if (listbox.hidden) openAll();
    });
    input.addEventListener("keydown", (event) => {
      if (event.altKey && event.key === "ArrowDown") {
        openAll();
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        move(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter") {
        if (listbox.hidden) return; // closed: Enter sends the form
        if (active) choose(active);
        else close();
      } else if (event.key === "Escape") {
        if (!listbox.hidden) close();
        else if (input.value) {
          input.value = "";
          sync();
        } else return;
      } else if (event.key === "Tab") {
        if (active) choose(active); // and focus moves on
        return;
      } else {
        return;
      }
      event.preventDefault();
    });
    input.addEventListener("blur", close);
    // A press on the list keeps focus in the input (so it does not close), and a tap chooses.
    listbox.addEventListener("mousedown", (event) => event.preventDefault());
    listbox.addEventListener("click", (event) => {
      const option = event.target.closest('[role="option"]');
      if (option) choose(option);
    });
    form?.addEventListener("submit", sync);

    const chosen = chosenOption();
    if (chosen) input.value = chosen.textContent;
  }

  document.querySelectorAll("select[data-combobox]").forEach(enhance);
})();
