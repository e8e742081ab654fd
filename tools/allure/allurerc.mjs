export default {
  name: "cpmconf conformance run",
  plugins: {
    allure2: { options: { singleFile: true, reportLanguage: "en" } },
  },
};
